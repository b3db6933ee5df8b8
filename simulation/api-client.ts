/** The simulation's resellers, support and admin act through the REST API over HTTP, as people do. */
import { httpCaller } from './http-call';

export interface ApiAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ApiClient {
  call(key: string, method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
}

export function createApiClient(baseUrl: string): ApiClient {
  const api = httpCaller(baseUrl);
  return {
    async call(key, method, path, body, headers = {}) {
      const { status, text } = await api.call({
        method,
        path,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: kept as text */
      }
      return { status, body: parsed };
    },
  };
}

/** Throws unless the answer has one of the expected statuses (setup calls must succeed). */
export function expectStatus(answer: ApiAnswer, what: string, ...statuses: number[]): ApiAnswer {
  if (!statuses.includes(answer.status)) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}
