import {NavMenu} from '@shopify/app-bridge-react';
import {Box, InlineStack} from '@shopify/polaris';
import {useEffect, useState} from 'react';
import {Navigate, NavLink, Route, Routes, useNavigate} from 'react-router';

import {AnalyticsPage} from './pages/Analytics';
import {CodesPage} from './pages/Codes';
import {NotFoundPage} from './pages/NotFound';
import {OfferEditorPage} from './pages/OfferEditor';
import {OffersPage} from './pages/Offers';
import {SegmentEditorPage} from './pages/SegmentEditor';
import {SegmentsPage} from './pages/Segments';
import {SettingsPage} from './pages/Settings';
import {SimulatorPage} from './pages/Simulator';

/** The app's sections, in the order of the admin's navigation menu. */
export const SECTIONS = [
  {path: '/offers', label: 'Offers'},
  {path: '/segments', label: 'Segments'},
  {path: '/analytics', label: 'Analytics'},
  {path: '/simulator', label: 'Checkout simulator'},
  {path: '/settings', label: 'Settings'},
];

/** appBridgeNav reports whether App Bridge draws our navigation menu in the admin. */
function appBridgeNav(): boolean {
  return typeof customElements !== 'undefined' && !!customElements.get('ui-nav-menu');
}

export function App() {
  const navigate = useNavigate();
  const [adminNav] = useState(appBridgeNav);

  // The admin's navigation menu (App Bridge) changes the page through this event.
  useEffect(() => {
    const onNavigate = (event: Event) => {
      const href = (event.target as Element | null)?.getAttribute?.('href');
      if (href) navigate(href.replace(/^\/app(?=\/|$)/, '') || '/');
    };
    document.addEventListener('shopify:navigate', onNavigate);
    return () => document.removeEventListener('shopify:navigate', onNavigate);
  }, [navigate]);

  return (
    <>
      <NavMenu>
        <a href="/app" rel="home">
          Regulars
        </a>
        {SECTIONS.map((s) => (
          <a key={s.path} href={`/app${s.path}`}>
            {s.label}
          </a>
        ))}
      </NavMenu>
      {!adminNav && (
        <Box paddingInlineStart="400" paddingInlineEnd="400" paddingBlockStart="300">
          <nav aria-label="Regulars" className="regulars-app-nav">
            <InlineStack gap="400" wrap>
              {SECTIONS.map((s) => (
                <NavLink key={s.path} to={s.path} className="Polaris-Link">
                  {s.label}
                </NavLink>
              ))}
            </InlineStack>
          </nav>
        </Box>
      )}
      <Routes>
        <Route path="/" element={<Navigate to="/offers" replace />} />
        <Route path="/offers" element={<OffersPage />} />
        <Route path="/offers/new" element={<OfferEditorPage />} />
        <Route path="/offers/:id" element={<OfferEditorPage />} />
        <Route path="/offers/:id/codes" element={<CodesPage />} />
        <Route path="/segments" element={<SegmentsPage />} />
        <Route path="/segments/new" element={<SegmentEditorPage />} />
        <Route path="/segments/:id" element={<SegmentEditorPage />} />
        <Route path="/analytics" element={<AnalyticsPage />} />
        <Route path="/simulator" element={<SimulatorPage />} />
        <Route path="/settings" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </>
  );
}
