import { escapeHtml } from '../text/html.ts';

/**
 * Admin-written texts (extended description, privacy policy, closed-registrations message) as the
 * HTML Mastodon serves for them. Mastodon renders them as Markdown; until Woolly has a Markdown
 * renderer this keeps the text safe and its shape: HTML is escaped, a blank line starts a new
 * paragraph and a single line break becomes `<br>`.
 */
export function renderAdminText(text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  if (normalized === '') return '';
  return normalized
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('');
}
