/** A provider's catalogue entry, as the simulator keeps it. */
export interface SimService {
  service: number;
  name: string;
  type: string;
  category: string;
  /** Price per 1000 units, a decimal string as providers send it. */
  rate: string;
  min: number;
  max: number;
  refill: boolean;
  cancel: boolean;
  dripfeed?: boolean;
}

/**
 * The demo catalogue: a handful of Instagram/TikTok/YouTube services, and one service of every other
 * type the API v2 reference lists (8-21). A Package's rate is its price per order.
 */
export const DEMO_CATALOGUE: readonly SimService[] = [
  { service: 1, name: 'Instagram Followers [Refill 30D]', type: 'Default', category: 'Instagram Followers', rate: '0.90', min: 50, max: 10000, refill: true, cancel: true, dripfeed: true },
  { service: 2, name: 'Instagram Followers [No refill]', type: 'Default', category: 'Instagram Followers', rate: '0.45', min: 50, max: 20000, refill: false, cancel: false },
  { service: 3, name: 'Instagram Likes', type: 'Default', category: 'Instagram Likes', rate: '0.12', min: 10, max: 50000, refill: false, cancel: true, dripfeed: true },
  { service: 4, name: 'TikTok Followers [Refill 30D]', type: 'Default', category: 'TikTok Followers', rate: '1.20', min: 50, max: 10000, refill: true, cancel: true },
  { service: 5, name: 'TikTok Views', type: 'Default', category: 'TikTok Views', rate: '0.02', min: 100, max: 1000000, refill: false, cancel: false, dripfeed: true },
  { service: 6, name: 'YouTube Views [Lifetime refill]', type: 'Default', category: 'YouTube Views', rate: '1.50', min: 100, max: 100000, refill: true, cancel: false },
  { service: 7, name: 'YouTube Subscribers [Refill 30D]', type: 'Default', category: 'YouTube Subscribers', rate: '12.00', min: 50, max: 5000, refill: true, cancel: true },
  { service: 8, name: 'Instagram Likes Package [1000]', type: 'Package', category: 'Instagram Packages', rate: '1.50', min: 1, max: 1, refill: false, cancel: false },
  { service: 9, name: 'Instagram Custom Comments', type: 'Custom Comments', category: 'Instagram Comments', rate: '20.00', min: 1, max: 1000, refill: false, cancel: true },
  { service: 10, name: 'Instagram Custom Comments Package [10]', type: 'Custom Comments Package', category: 'Instagram Comments', rate: '2.50', min: 1, max: 10, refill: false, cancel: false },
  { service: 11, name: 'Instagram Mentions', type: 'Mentions', category: 'Instagram Mentions', rate: '4.00', min: 100, max: 10000, refill: false, cancel: true },
  { service: 12, name: 'Instagram Mentions with Hashtags', type: 'Mentions with Hashtags', category: 'Instagram Mentions', rate: '5.00', min: 100, max: 10000, refill: false, cancel: true },
  { service: 13, name: 'Instagram Mentions Custom List', type: 'Mentions Custom List', category: 'Instagram Mentions', rate: '6.00', min: 1, max: 1000, refill: false, cancel: true },
  { service: 14, name: 'Instagram Mentions Hashtag', type: 'Mentions Hashtag', category: 'Instagram Mentions', rate: '4.50', min: 100, max: 10000, refill: false, cancel: true },
  { service: 15, name: 'Instagram Mentions User Followers', type: 'Mentions User Followers', category: 'Instagram Mentions', rate: '4.50', min: 100, max: 10000, refill: false, cancel: true },
  { service: 16, name: 'Instagram Mentions Media Likers', type: 'Mentions Media Likers', category: 'Instagram Mentions', rate: '4.50', min: 100, max: 10000, refill: false, cancel: true },
  { service: 17, name: 'Instagram Comment Likes', type: 'Comment Likes', category: 'Instagram Comments', rate: '3.00', min: 10, max: 5000, refill: false, cancel: true },
  { service: 18, name: 'Instagram Comment Replies', type: 'Comment Replies', category: 'Instagram Comments', rate: '25.00', min: 1, max: 500, refill: false, cancel: true },
  { service: 19, name: 'Twitter Poll Votes', type: 'Poll', category: 'Twitter Polls', rate: '2.00', min: 50, max: 10000, refill: false, cancel: true },
  { service: 20, name: 'Website SEO Traffic [Keywords]', type: 'SEO', category: 'Website Traffic', rate: '1.00', min: 100, max: 100000, refill: false, cancel: true },
  { service: 21, name: 'Instagram Auto Likes [Subscription]', type: 'Subscriptions', category: 'Instagram Auto Likes', rate: '0.20', min: 50, max: 5000, refill: false, cancel: true },
];
