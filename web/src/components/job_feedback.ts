/**
 * What people expect around long jobs: a toast when a video finishes or fails, a browser
 * notification when that happens while the tab is hidden (permission is asked when the user
 * starts a video, never on page load), and the running count in the tab title.
 */
import { useEffect } from "react";
import { useJobsStore, useVideoGeneration } from "../hooks/use_video_generation.ts";
import { isActive, type Job } from "../types.ts";
import { useToast } from "./toasts.tsx";

const BASE_TITLE = "Vidqueue";

function short(prompt: string | null): string {
  const p = (prompt ?? "").trim();
  return p.length > 60 ? `${p.slice(0, 57)}…` : p || "Untitled";
}

function notify(title: string, body: string) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  if (document.visibilityState !== "hidden") return;
  try {
    const n = new Notification(title, { body, tag: "vidqueue" });
    n.onclick = () => {
      globalThis.focus();
      location.hash = "#/library";
      n.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker; the toast still shows.
  }
}

/** Asks for notification permission once, from a user gesture (the Generate button). */
export function askNotificationPermission() {
  if (typeof Notification === "undefined" || Notification.permission !== "default") return;
  Notification.requestPermission().catch(() => {});
}

/** Wires job transitions to toasts, notifications and the title badge. */
export function useJobFeedback() {
  const store = useJobsStore();
  const { runningCount } = useVideoGeneration();
  const toast = useToast();

  useEffect(() => {
    return store.onTransition((before: Job | undefined, after: Job | undefined) => {
      // Only real transitions we watched: jobs first seen in a snapshot are history, not news.
      if (!before || !after || !isActive(before.status) || isActive(after.status)) return;
      const what = short(after.prompt);
      if (after.status === "completed") {
        toast({
          kind: "success",
          title: "Your video is ready",
          body: what,
          href: "#/library",
          linkText: "Watch it",
        });
        notify("Your video is ready", what);
      } else if (after.status === "failed") {
        const reason = after.error?.message ?? "Something went wrong.";
        toast({ kind: "error", title: "A video failed", body: `${what}: ${reason}` });
        notify("A video failed", `${what}: ${reason}`);
      } else if (after.status === "canceled") {
        toast({ kind: "info", title: "Video canceled", body: what });
      }
    });
  }, [store, toast]);

  useEffect(() => {
    document.title = runningCount > 0 ? `(${runningCount}) ${BASE_TITLE}` : BASE_TITLE;
  }, [runningCount]);
}
