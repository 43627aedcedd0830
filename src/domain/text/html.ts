/**
 * HTML escaping, once for everything the server renders: status HTML, admin texts, profile
 * fields, mails and the server-rendered pages. Escapes the five characters that matter in text
 * and in quoted attribute values.
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
