import { escapeHtml } from '../text/html.ts';

/**
 * A local bio as HTML, as Mastodon's TextFormatter renders plain text: escaped, a blank line starts
 * a paragraph, a single line break becomes `<br />` (Rails' simple_format). Links, mentions and
 * hashtags are turned into anchors once statuses (issue 4) bring the shared text formatter.
 */
export function renderBio(text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  if (normalized === '') return '';
  return normalized
    .split(/\n\n+/)
    .map(
      (paragraph) =>
        `<p>${escapeHtml(paragraph)
          .replace(/([^\n])\n(?=[^\n])/g, '$1<br />')
          .replace(/\n/g, '')}</p>`,
    )
    .join('');
}

/** A local profile field's value as HTML: one line, escaped. */
export function renderFieldValue(value: string): string {
  return escapeHtml(value.replace(/\r?\n/g, ' '));
}
