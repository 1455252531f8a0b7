// Short confirmations go to the admin's toast (App Bridge's shopify.toast; the local stand-in
// shows it in its admin chrome). Pages also say what happened in their own content.

export function toast(message: string, isError = false) {
  const shopify = (window as unknown as {shopify?: {toast?: {show: (m: string, o?: {isError?: boolean}) => unknown}}})
    .shopify;
  try {
    void Promise.resolve(shopify?.toast?.show(message, {isError})).catch(() => {});
  } catch {
    /* Outside an admin there is nowhere to show it. */
  }
}
