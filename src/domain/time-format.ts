/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, the timestamp format of the wire contract. */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2024-05-26T12:00:45.831Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** Whole seconds from `from` to `now`, never negative. */
export function elapsedSeconds(from: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - from.getTime()) / 1000));
}
