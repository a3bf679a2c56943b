// Small React hooks shared by the areas.
import { useEffect, useRef, useState } from 'react';

/** performance.now(), refreshed every `everyMs` while `active` (elapsed-time displays). */
export function useNow(active: boolean, everyMs = 200): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    setNow(performance.now());
    const t = setInterval(() => setNow(performance.now()), everyMs);
    return () => clearInterval(t);
  }, [active, everyMs]);
  return now;
}

/**
 * `value`, but at most one change per `ms` (the latest value always arrives, at most `ms` late):
 * keeps charts from re-rendering on every event of a live run.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - performance.now();
    if (wait <= 0) {
      last.current = performance.now();
      setShown(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return shown;
}
