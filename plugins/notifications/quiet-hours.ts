import { DateTime } from 'luxon';

/**
 * When the quiet window that `now` falls in ends, or null outside it. The window is a daily one
 * in the user's time zone ("22:00"–"07:00" wraps midnight); luxon does the zone arithmetic,
 * daylight-saving days included.
 */
export function quietUntil(now: Date, starts: string, ends: string, timeZone: string): Date | null {
  const local = DateTime.fromJSDate(now, { zone: timeZone });
  if (!local.isValid) return null;
  const at = (clock: string) => {
    const [hour = 0, minute = 0, second = 0] = clock.split(':').map(Number);
    return local.set({ hour, minute, second, millisecond: 0 });
  };
  const start = at(starts);
  const end = at(ends);
  if (start.equals(end)) return null;
  if (start < end) return local >= start && local < end ? end.toJSDate() : null;
  // Wraps midnight: quiet from start to midnight, and from midnight to end.
  if (local >= start) return end.plus({ days: 1 }).toJSDate();
  if (local < end) return end.toJSDate();
  return null;
}

export function isTimeZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}
