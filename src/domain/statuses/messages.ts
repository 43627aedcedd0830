/** Mastodon's texts for the refusals of status actions that are theirs alone (config/locales/en.yml). */
export const IN_REPLY_NOT_FOUND = 'The post you are trying to reply to does not appear to exist.';
export const RETRY_LATER = 'There was a temporary problem serving your request, please try again';
