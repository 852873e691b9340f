/** Whether a process still exists, from its PID alone (a lock file's owner, an adopted game server). */

/** Alive, or alive but owned by another user (EPERM): either way the PID is taken. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
