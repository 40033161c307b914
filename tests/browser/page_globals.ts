/**
 * Types for code that runs inside the page (bodies passed to `page.evaluate` and
 * `page.waitForFunction`). Those bodies execute in Chromium, not in Deno; a test file declares
 * `declare const document: PageDocument;` locally so they type-check without adding the DOM lib
 * to the whole test program, where it clashes with Deno's own declarations.
 */

/** The parts of a DOM element the tests read. */
export interface PageElement {
  tagName: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  matches(selector: string): boolean;
  closest(selector: string): PageElement | null;
  type?: string;
  name?: string;
  value?: string;
  checked?: boolean;
  readyState?: number;
}

/** The parts of `document` the tests read. */
export interface PageDocument {
  activeElement: PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { forEach(fn: (el: PageElement) => void): void };
}

/** `MutationObserver`, as far as the tests use it. */
export type PageMutationObserver = new (callback: () => void) => {
  observe(target: unknown, options: Record<string, boolean>): void;
};

/** `getComputedStyle`, as far as the tests use it. */
export type PageGetComputedStyle = (el: PageElement) => { outlineStyle: string };
