/**
 * Why a change to the social graph was refused. The API maps each kind to Mastodon's answer:
 * `self_follow` → 403 "Following your own account is not allowed", `not_permitted` → 403 "This
 * action is not allowed" (a block either way), `not_following` → 422 (endorsing someone not
 * followed), `follow_limit` → 422 (Mastodon's FollowLimitValidator).
 */
export type RelationshipErrorKind = 'self_follow' | 'not_permitted' | 'not_following' | 'follow_limit';

export class RelationshipError extends Error {
  readonly kind: RelationshipErrorKind;

  constructor(kind: RelationshipErrorKind, message: string) {
    super(message);
    this.name = 'RelationshipError';
    this.kind = kind;
  }
}

/** Mastodon's texts (config/locales/en.yml). */
export const SELF_FOLLOW_ERROR = 'Following your own account is not allowed';
export const NOT_PERMITTED_ERROR = 'This action is not allowed';
export const ENDORSE_NOT_FOLLOWING_ERROR = 'You must be already following the person you want to endorse';
export const followLimitError = (limit: number) => `You cannot follow more than ${limit} people`;
