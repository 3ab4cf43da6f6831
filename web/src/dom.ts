/**
 * The pages' two DOM helpers: `h` builds elements, and `patch` brings a rendered region up to
 * date in place. A page re-renders on a timer (a countdown ticks twice a second), and swapping
 * its elements for new ones would lose what a person is doing with them: a click whose press
 * and release straddle the swap, the keyboard focus on a choice, a screen reader's live region.
 * `patch` keeps every element whose place and tag are unchanged and updates only what differs.
 */

/** The handlers `h` set on an element, by event name, so that `patch` can carry them over. */
const HANDLERS = Symbol('cuecast.handlers');
type WithHandlers = Element & { [HANDLERS]?: Map<string, EventListener> };

/** Builds an element: `h('button', { class: 'x', onclick }, 'text')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, unknown> = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function')
      setHandler(el, name.slice(2), value as EventListener);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/**
 * Makes `parent`'s children match `next` (freshly built, not in the document), reusing each
 * existing child of the same kind and tag at the same place.
 */
export function patch(parent: Element, next: readonly Node[]): void {
  const count = Math.max(parent.childNodes.length, next.length);
  for (let i = 0, kept = 0; i < count; i++) {
    const current = parent.childNodes[kept];
    const wanted = next[i];
    if (!wanted) {
      current?.remove();
      continue;
    }
    kept++;
    if (!current) parent.append(wanted);
    else if (current.nodeType === Node.TEXT_NODE && wanted.nodeType === Node.TEXT_NODE) {
      if (current.nodeValue !== wanted.nodeValue) current.nodeValue = wanted.nodeValue;
    } else if (
      current instanceof Element &&
      wanted instanceof Element &&
      current.tagName === wanted.tagName
    ) {
      patchElement(current, wanted);
    } else parent.replaceChild(wanted, current);
  }
}

function patchElement(current: Element, wanted: Element): void {
  for (const { name } of Array.from(current.attributes))
    if (!wanted.hasAttribute(name)) current.removeAttribute(name);
  for (const { name, value } of Array.from(wanted.attributes)) {
    if (current.getAttribute(name) === value) continue;
    // Through the CSSOM: the pages' CSP (`style-src 'self'`) refuses a written style attribute.
    if (name === 'style') (current as HTMLElement).style.cssText = (wanted as HTMLElement).style.cssText;
    else current.setAttribute(name, value);
  }
  const before = (current as WithHandlers)[HANDLERS];
  const after = (wanted as WithHandlers)[HANDLERS];
  for (const [event, handler] of before ?? [])
    if (after?.get(event) !== handler) current.removeEventListener(event, handler);
  for (const [event, handler] of after ?? [])
    if (before?.get(event) !== handler) current.addEventListener(event, handler);
  if (after) (current as WithHandlers)[HANDLERS] = after;
  else delete (current as WithHandlers)[HANDLERS];
  patch(current, Array.from(wanted.childNodes));
}

function setHandler(el: Element, event: string, handler: EventListener): void {
  const target = el as WithHandlers;
  const handlers = target[HANDLERS] ?? new Map<string, EventListener>();
  handlers.set(event, handler);
  target[HANDLERS] = handlers;
  el.addEventListener(event, handler);
}

/** A result bar's fill, its width set through the CSSOM: the pages' CSP (`style-src 'self'`) refuses style attributes. */
export function barFill(percent: number): HTMLDivElement {
  const bar = h('div', { class: 'bar-fill', role: 'presentation' });
  bar.style.width = `${percent}%`;
  return bar;
}
