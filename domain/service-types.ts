/**
 * The service types a panel sells (API v2 `services` → `type`), and what each order carries.
 * The key is what the database and the workflow store; the name is what API v2 shows.
 * Plain data, no I/O: used by the API (validation), the workflow (what to run) and the simulator.
 */
export const SERVICE_TYPES = [
  'default',
  'package',
  'custom_comments',
  'custom_comments_package',
  'mentions',
  'mentions_with_hashtags',
  'mentions_custom_list',
  'mentions_hashtag',
  'mentions_user_followers',
  'mentions_media_likers',
  'comment_likes',
  'comment_replies',
  'poll',
  'seo',
  'subscriptions',
] as const;

export type ServiceType = (typeof SERVICE_TYPES)[number];

/** API v2 names, as panels print them in `services`. */
export const SERVICE_TYPE_NAMES: Record<ServiceType, string> = {
  default: 'Default',
  package: 'Package',
  custom_comments: 'Custom Comments',
  custom_comments_package: 'Custom Comments Package',
  mentions: 'Mentions',
  mentions_with_hashtags: 'Mentions with Hashtags',
  mentions_custom_list: 'Mentions Custom List',
  mentions_hashtag: 'Mentions Hashtag',
  mentions_user_followers: 'Mentions User Followers',
  mentions_media_likers: 'Mentions Media Likers',
  comment_likes: 'Comment Likes',
  comment_replies: 'Comment Replies',
  poll: 'Poll',
  seo: 'SEO',
  subscriptions: 'Subscriptions',
};

export function isServiceType(value: string): value is ServiceType {
  return (SERVICE_TYPES as readonly string[]).includes(value);
}
