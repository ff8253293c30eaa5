/** Ready or not, and, when not, why (shown in /healthz's answer). */
export type Readiness = () => Promise<boolean | { ready: boolean; reason: string }>;

/**
 * The answer of GET /healthz, the same wherever it is served (a service's
 * public port or its operations port): 200 `{status: "ok"}`, or 503
 * `{status: "unavailable", reason}`. A check that throws is not ready.
 */
export async function healthAnswer(isReady: Readiness): Promise<{ statusCode: 200 | 503; body: { status: string; reason?: string } }> {
  const answer = await isReady().catch(() => ({ ready: false, reason: 'readiness check failed' }));
  const { ready, reason } = typeof answer === 'boolean' ? { ready: answer, reason: undefined } : answer;
  return ready
    ? { statusCode: 200, body: { status: 'ok' } }
    : { statusCode: 503, body: { status: 'unavailable', ...(reason ? { reason } : {}) } };
}

/** GET /livez: the process answers. */
export const LIVE = { status: 'ok' } as const;
