import '@shopify/polaris/build/esm/styles.css';
import './app.css';

import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {StrictMode} from 'react';
import {createRoot} from 'react-dom/client';
import {BrowserRouter} from 'react-router';

import {App} from './App';
import {LinkAdapter} from './components/LinkAdapter';
import {ShopProvider} from './shop';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter basename="/app">
      <AppProvider i18n={en} linkComponent={LinkAdapter}>
        <ShopProvider>
          <App />
        </ShopProvider>
      </AppProvider>
    </BrowserRouter>
  </StrictMode>,
);
