/**
 * The top bar: skip link, brand, page navigation (Library shows how many videos are running),
 * the credit balance and whether live updates are connected.
 */
import type { ReactNode } from "react";
import { credits as creditsText } from "../format.ts";
import { useVideoGeneration } from "../hooks/use_video_generation.ts";
import type { Route } from "../router.ts";

function NavLink(props: { to: Route; current: Route; children: ReactNode }) {
  return (
    <a
      href={`#/${props.to}`}
      className="nav-link"
      aria-current={props.current === props.to ? "page" : undefined}
    >
      {props.children}
    </a>
  );
}

/** Header for signed-out visitors. */
export function PublicHeader() {
  return (
    <header className="topbar">
      <a className="skip-link" href="#main">Skip to content</a>
      <div className="topbar-inner">
        <span className="brand">Vidqueue</span>
      </div>
    </header>
  );
}

/** Header for signed-in users. */
export function AppHeader(props: { route: Route; anonymous: boolean; admin?: boolean }) {
  const { credits, runningCount, connection } = useVideoGeneration();
  const live = connection === "live";
  return (
    <header className="topbar">
      <a className="skip-link" href="#main">Skip to content</a>
      <div className="topbar-inner">
        <a className="brand" href="#/generate">Vidqueue</a>
        <nav className="nav" aria-label="Main">
          <NavLink to="generate" current={props.route}>Generate</NavLink>
          <NavLink to="create" current={props.route}>Create</NavLink>
          <NavLink to="library" current={props.route}>
            Library
            {runningCount > 0 && (
              <span className="count" aria-label={`, ${runningCount} running`}>{runningCount}</span>
            )}
          </NavLink>
          <NavLink to="account" current={props.route}>
            Account
            {props.anonymous && (
              <span className="guest" aria-label=", guest: not saved yet">Guest</span>
            )}
          </NavLink>
          {props.admin && <NavLink to="admin" current={props.route}>Admin</NavLink>}
        </nav>
        <div className="topbar-status">
          <span className="credits" data-testid="credits">
            {credits === null ? "… credits" : creditsText(credits.available)}
          </span>
          <span
            className={`live ${live ? "live-on" : "live-off"}`}
            title={live ? "Live updates connected" : "Reconnecting to live updates"}
            data-testid="connection"
          >
            <span className="dot" aria-hidden="true" />
            {live ? "Live" : "Reconnecting…"}
          </span>
        </div>
      </div>
    </header>
  );
}
