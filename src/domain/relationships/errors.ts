/**
 * Mastodon's texts (config/locales/en.yml) for refused changes to the social graph. They are thrown
 * as DomainError (src/domain/errors.ts): following oneself or a blocked account is `forbidden`
 * (403); endorsing someone not followed and the follow limit are `unprocessable` model validations
 * (422 "Validation failed: …", Mastodon's FollowLimitValidator).
 */
export const SELF_FOLLOW_ERROR = 'Following your own account is not allowed';
export const ENDORSE_NOT_FOLLOWING_ERROR = 'You must be already following the person you want to endorse';
export const followLimitError = (limit: number) => `You cannot follow more than ${limit} people`;
