/**
 * Toast messages ("Video started", "Your video is ready", failures) in one polite live region so
 * screen readers announce them; each one closes itself after a while or with its button.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

export type ToastKind = "info" | "success" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
  /** Optional in-app link, e.g. to the library. */
  href?: string;
  linkText?: string;
}

type NewToast = Omit<Toast, "id">;

const ToastContext = createContext<(toast: NewToast) => void>(() => {});

/** How long toasts stay: errors longer, so they can be read. */
const LIFETIME_MS: Record<ToastKind, number> = { info: 5000, success: 7000, error: 12000 };

/** Holds the toasts and renders them above everything else. */
export function ToastProvider(props: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => {
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);
  const push = useCallback((toast: NewToast) => {
    const id = Date.now() + Math.random();
    setToasts((list) => [...list.slice(-3), { ...toast, id }]);
    setTimeout(() => dismiss(id), LIFETIME_MS[toast.kind]);
  }, [dismiss]);
  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {props.children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast">
            <div className="toast-text">
              <strong>{t.title}</strong>
              {t.body && <span>{t.body}</span>}
              {t.href && <a href={t.href}>{t.linkText ?? "Open"}</a>}
            </div>
            <button
              type="button"
              className="toast-close"
              aria-label={`Dismiss: ${t.title}`}
              onClick={() => dismiss(t.id)}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** Returns the function that shows a toast. */
export function useToast(): (toast: NewToast) => void {
  return useContext(ToastContext);
}
