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

/** The demo catalogue: a handful of Instagram/TikTok/YouTube services. */
export const DEMO_CATALOGUE: readonly SimService[] = [
  { service: 1, name: 'Instagram Followers [Refill 30D]', type: 'Default', category: 'Instagram Followers', rate: '0.90', min: 50, max: 10000, refill: true, cancel: true },
  { service: 2, name: 'Instagram Followers [No refill]', type: 'Default', category: 'Instagram Followers', rate: '0.45', min: 50, max: 20000, refill: false, cancel: false },
  { service: 3, name: 'Instagram Likes', type: 'Default', category: 'Instagram Likes', rate: '0.12', min: 10, max: 50000, refill: false, cancel: true },
  { service: 4, name: 'TikTok Followers [Refill 30D]', type: 'Default', category: 'TikTok Followers', rate: '1.20', min: 50, max: 10000, refill: true, cancel: true },
  { service: 5, name: 'TikTok Views', type: 'Default', category: 'TikTok Views', rate: '0.02', min: 100, max: 1000000, refill: false, cancel: false },
  { service: 6, name: 'YouTube Views [Lifetime refill]', type: 'Default', category: 'YouTube Views', rate: '1.50', min: 100, max: 100000, refill: true, cancel: false },
  { service: 7, name: 'YouTube Subscribers [Refill 30D]', type: 'Default', category: 'YouTube Subscribers', rate: '12.00', min: 50, max: 5000, refill: true, cancel: true },
];
