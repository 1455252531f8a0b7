import {useCallback, useEffect, useRef, useState, type DependencyList} from 'react';

export interface Load<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: T | ((prev: T | undefined) => T)) => void;
}

/**
 * useLoad runs load when the deps change (and on reload), keeping the last answer, the error
 * and whether a load is under way. A load that is overtaken by a newer one is dropped.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Load<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    const ctrl = new AbortController();
    const run = ++latest.current;
    setLoading(true);
    load(ctrl.signal)
      .then((d) => {
        if (run !== latest.current) return;
        setDataState(d);
        setError(null);
      })
      .catch((e) => {
        if (run !== latest.current || ctrl.signal.aborted) return;
        setError(e);
      })
      .finally(() => {
        if (run === latest.current) setLoading(false);
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const setData = useCallback((update: T | ((prev: T | undefined) => T)) => {
    setDataState((prev) => (typeof update === 'function' ? (update as (p: T | undefined) => T)(prev) : update));
  }, []);
  return {data, error, loading, reload, setData};
}
