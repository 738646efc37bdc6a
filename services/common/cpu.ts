/** This process's CPU (user + system, all its threads) since `before`, in ms; process.cpuUsage counts whole µs. */
export function cpuMsSince(before: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(before);
  return (user + system) / 1000;
}
