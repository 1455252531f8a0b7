// What every page needs to know about the shop: its currency (money fields) and timezone
// (schedules, analytics days). The currency comes with the page (app/adminpage.go writes it
// into a meta tag for the verified shop); the timezone is the shop's setting.

import {createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode} from 'react';

import {api} from './lib/api';
import {currencyExponent} from './lib/money';
import type {ShopSettings} from './lib/types';

export interface Shop {
  domain: string;
  currency: string;
  exponent: number;
  timeZone: string;
  settings: ShopSettings | null;
  /** ready: the settings answered (or failed: the timezone is then UTC). */
  ready: boolean;
  setSettings: (s: ShopSettings) => void;
}

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
}

const fallbackCurrency = 'USD';

const ShopContext = createContext<Shop>({
  domain: '',
  currency: fallbackCurrency,
  exponent: 2,
  timeZone: 'UTC',
  settings: null,
  ready: false,
  setSettings: () => {},
});

export function ShopProvider({children}: {children: ReactNode}) {
  const [settings, setSettingsState] = useState<ShopSettings | null>(null);
  const [ready, setReady] = useState(false);
  const currency = meta('regulars-currency') || fallbackCurrency;
  const domain = meta('regulars-shop');
  useEffect(() => {
    let live = true;
    api
      .get<ShopSettings>('/api/settings')
      .then((s) => live && setSettingsState(s))
      .catch(() => {
        /* Pages report their own errors; the timezone stays UTC meanwhile. */
      })
      .finally(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, []);
  const setSettings = useCallback((s: ShopSettings) => setSettingsState(s), []);
  const value = useMemo<Shop>(
    () => ({
      domain,
      currency,
      exponent: currencyExponent(currency),
      timeZone: settings?.timezone || 'UTC',
      settings,
      ready,
      setSettings,
    }),
    [domain, currency, settings, ready, setSettings],
  );
  return <ShopContext.Provider value={value}>{children}</ShopContext.Provider>;
}

export function useShop(): Shop {
  return useContext(ShopContext);
}
