/**
 * dom.js — the small DOM builders every module uses.
 *
 * Owns: `h()` for HTML elements, `svg()` for SVG elements, `clear()`, `srOnly()` and
 * `uniqueId()`.
 * Must not use: `innerHTML` or `style="…"` attributes. Text from the API always goes in as
 * text nodes so it can never become markup, and the Content-Security-Policy
 * (`style-src 'self'`, no inline script) refuses inline styles and handlers anyway.
 * Sizes computed at run time are set through `el.style.x = …` (CSSOM), which the policy allows.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element.
 * attrs: plain attributes (`true` → present, `false`/`null`/`undefined` → absent), plus
 *   `class` (string or array), `dataset` (object), `on` (event → handler), and `props`
 *   (properties set directly, such as `value` or `checked`).
 * children: strings, numbers, nodes, arrays of them; `null`/`false` are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Builds an SVG element (same conventions as `h`). */
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style') {
      // Refused on purpose: the CSP would silently drop it.
      throw new Error('dom: use classes or el.style, not a style attribute');
    } else if (key === 'class') {
      const names = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (names) el.setAttribute('class', names);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && v !== null) el.dataset[k] = String(v);
      }
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'props') {
      Object.assign(el, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (strings, numbers, nodes, nested arrays) to a node. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of a node. */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** Replaces every child of a node. */
export function replaceChildren(node, ...children) {
  clear(node);
  return append(node, children);
}

/** Text read by screen readers but not shown. */
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}

let idCounter = 0;
/** A document-unique id with a readable prefix. */
export function uniqueId(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
