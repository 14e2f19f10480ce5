// Reading server-sent events in integration tests.

/** An SSE connection (GET `path` through `call`): `readUntil` waits for the text so far to satisfy `pred`. */
export async function openSse(
  call: (path: string, init?: RequestInit) => Promise<Response>,
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  readUntil: (pred: (t: string) => boolean, ms: number) => Promise<boolean>;
  text: () => string;
  /** `id:` lines of the anomaly events received so far, in order. */
  ids: () => string[];
  close: () => void;
}> {
  const ac = new AbortController();
  const sse = await call(path, { signal: ac.signal, headers });
  const type = sse.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream'))
    throw new Error(`GET ${path}: ${sse.status} ${type}, not an event stream`);
  const reader = sse.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  // One read stays pending across calls: a timed-out wait must not drop the chunk that read returns later.
  let pending: ReturnType<typeof reader.read> | null = null;
  const readUntil = async (pred: (t: string) => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!pred(text)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      pending ??= reader.read();
      const r = await Promise.race([pending, new Promise<null>((res) => setTimeout(() => res(null), left))]);
      if (r === null) return false;
      pending = null;
      if (r.done) return false;
      text += dec.decode(r.value as Uint8Array, { stream: true });
    }
    return true;
  };
  return {
    readUntil,
    text: () => text,
    ids: () =>
      text
        .split('\n')
        .filter((l) => l.startsWith('id: '))
        .map((l) => l.slice(4)),
    close: () => ac.abort(),
  };
}
