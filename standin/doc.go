// Package standin is the local platform stand-in: it plays the commerce platform for the
// Regulars app in development and tests, speaking the protocols of docs/PLATFORM.md, so the
// app cannot tell it from the platform except by the base URL. Command cmd/regulars-platform
// serves it.
//
// # State
//
// Everything lives in memory behind one mutex: shops with products (variants, prices,
// collections), collections, customers (tags, addresses, emails) and orders; the app's
// installation (authorization codes, access and refresh tokens, granted scopes), webhook
// subscriptions, app discounts with their metafields and redeem codes, redeem-code imports
// and bulk operations, payment customizations. Two functions are installed with the app: the
// discount function (handle "regulars-discounts") and the payment customization function
// (handle "regulars-payments", payments.go).
//
// The demo shop regulars-demo.myshopify.com (USD, UTC) is generated from the seed and the
// start date (seed.go): 12 products in the collections Socks, Coffee and Mugs (one product in
// two, a gift card in none), 30 customers (tags VIP, wholesale, newsletter; cities such as
// Paris, Leeds, Lyon, Manchester, Berlin; mailbox variants such as plus-tags and dots; three
// accounts sharing an address and phone), and 300 orders over the two years before the start
// (some with WELCOME10 or FREESHIP, some cancelled, refunded or partly refunded, two cash on
// delivery, one test order).
//
// # Routes
//
//	GET  /                                              index: the demo shop and links
//	GET  /app-bridge.js                                 the App Bridge stand-in (below)
//	GET  /static/...                                    styles and scripts of the pages
//	GET  /healthz                                       "ok"
//	GET  /bulk/{key}.jsonl                              a bulk operation's result
//	GET  /shops/{shop}/admin/oauth/authorize            grant screen (auto=1 approves at once)
//	POST /shops/{shop}/admin/oauth/authorize            the Approve button
//	POST /shops/{shop}/admin/oauth/access_token         token endpoint (form or JSON)
//	POST /shops/{shop}/admin/api/2025-10/graphql.json   Admin GraphQL
//	GET  /shops/{shop}/admin                            redirects to the app page
//	GET  /shops/{shop}/admin/apps/regulars[/{path}]     admin chrome, the app in an iframe
//	POST /shops/{shop}/admin/id-token                   a fresh ID token for the embedded app
//	POST /shops/{shop}/admin/uninstall                  uninstalls the app (app/uninstalled)
//	GET  /shops/{shop}/admin/orders                     orders, with Cancel and Refund buttons
//	POST /shops/{shop}/admin/orders/{id}/cancel         orders/cancelled (+ refunds/create when paid), orders/updated
//	POST /shops/{shop}/admin/orders/{id}/refund         refunds/create, orders/updated
//	GET  /shops/{shop}/admin/customers                  customers, with a tags form
//	POST /shops/{shop}/admin/customers/{id}/tags        replaces the tags, customers/update
//	GET  /shops/{shop}/checkout                         the checkout form and the evaluated cart
//	POST /shops/{shop}/checkout                         places the order: orders/create, orders/paid
//
// # OAuth and tokens
//
// Authorize checks client_id and redirect_uri against the configured app, then redirects to
// redirect_uri with code, hmac, host, shop, state and timestamp; hmac is SignQuery (hex
// HMAC-SHA256 over the sorted, form-encoded query without hmac, spaces as %20) and host is
// base64 without padding of "admin.regulars.test/store/<name>". The token endpoint takes a
// form or JSON body: an authorization code (single use, 60 s), token exchange (an ID token
// for an offline token; an invalid, expired or foreign ID token, or an app that is not
// installed, answers 400 {"error":"invalid_subject_token"}), or a refresh token. With
// expiring=1 the access token lasts 60 minutes and comes with a refresh token of 90 days;
// a refresh rotates both (the old refresh token is spent at once; the old access token lives
// until it expires), and issuing a refresh token retires the shop's others.
//
// ID tokens are HS256 JWTs under the client secret: iss https://{shop}/admin, dest
// https://{shop}, aud the client id, sub "1", exp one minute after iat and nbf, jti, sid.
//
// # Admin GraphQL
//
// Every request needs an unexpired X-Shopify-Access-Token of the shop (else 401
// {"errors":"[API] Invalid API key or access token ..."}), is parsed and validated with
// gqlparser against graphql/schema/*.graphql (loaded once), and fails as the platform does:
// {"errors":[{"message","locations","extensions":{"code"}}]}, codes such as undefinedField,
// argumentNotAccepted, missingRequiredArguments, PARSE_ERROR, INVALID_VARIABLE. Every answer
// has extensions.cost; the cost model is in cost.go (object 1, connection 2 + page × node,
// mutation 10, bucket 1000 points restoring 50 a second, THROTTLED and MAX_COST_EXCEEDED).
// Root fields check the granted scopes (ACCESS_DENIED); without read_all_orders only the last
// 60 days of orders are visible.
//
// The executor (exec.go) supports: queries and mutations (no subscriptions, no
// introspection), operation names, variables with defaults and coercion, argument defaults,
// aliases, fragments and inline fragments with type conditions on interfaces and unions,
// __typename, @skip and @include, and Relay pagination (first, last, after, before, reverse;
// 250 at most, and 250 when neither first nor last is given). The operations:
//
//	queries    shop, app, appInstallation, currentAppInstallation, shopifyFunctions,
//	           shopifyFunction, node, nodes, orders, order, customers, customer, products,
//	           product, collections, collection, discountNodes, discountNodesCount,
//	           discountNode, codeDiscountNodeByCode, discountRedeemCodeBulkCreation,
//	           currentBulkOperation, webhookSubscriptions, paymentCustomizations,
//	           paymentCustomization
//	mutations  webhookSubscriptionCreate, webhookSubscriptionDelete, discountCodeAppCreate,
//	           discountCodeAppUpdate, discountAutomaticAppCreate, discountAutomaticAppUpdate,
//	           discountCodeActivate, discountCodeDeactivate, discountAutomaticActivate,
//	           discountAutomaticDeactivate, discountCodeDelete, discountAutomaticDelete,
//	           discountRedeemCodeBulkAdd, bulkOperationRunQuery, tagsAdd, metafieldsSet,
//	           paymentCustomizationCreate, paymentCustomizationActivation
//
// Search syntax subsets: orders(query:) understands created_at/updated_at/processed_at with
// :, :>, :>=, :<, :<=, customer_id, financial_status, status and test; discountNodes(query:)
// understands method, status, type, title and bare words. Other terms are ignored.
//
// Discounts: Deactivate sets endsAt to now (status EXPIRED); Activate clears endsAt (and
// moves a future startsAt to now). userErrors follow the platform: BLANK title or code,
// TAKEN code (case-insensitive, across the shop), INVALID or MISSING_FUNCTION_IDENTIFIER for
// functionHandle, END_DATE_BEFORE_START_DATE, GREATER_THAN usageLimit, INVALID metafield
// type or JSON value, INVALID context (more than one of all, customers, customerSegments,
// unknown customers), MAX_APP_DISCOUNTS (25 active automatic app discounts), INVALID id.
// Metafields given on update are upserted by namespace and key ("$app" resolves to the
// app's reserved namespace). discountRedeemCodeBulkAdd takes 1 to 250 codes (more:
// EXCEEDED_MAX) and imports them asynchronously: discountRedeemCodeBulkCreation reports
// done, codesCount, importedCount and failedCount, with per-code errors (BLANK, TOO_LONG,
// TAKEN). Bulk operations are described in bulk.go.
//
// Asynchronous work (redeem-code imports, bulk operations) completes AsyncDelay after it was
// requested, at the next request that looks (no goroutine).
//
// # Webhooks
//
// Deliveries go to every subscription of the topic: POST {app}{uri} (or the absolute uri),
// with X-Shopify-Topic, -Shop-Domain, -Hmac-Sha256 (webhooks.Sign), -Webhook-Id, -Event-Id,
// -API-Version, -Triggered-At; the body is the REST resource (orders as
// webhooks/testdata/order-rest-sample.json). They run in the background; a non-2xx answer
// is retried (webhooks.go).
//
// # Embedded admin and App Bridge
//
// The admin page embeds {app}/app[/{path}]?embedded=1&hmac&host&id_token&locale&shop&timestamp
// (signed like the OAuth callback) when the app is installed, and offers "Install Regulars"
// ({app}/auth?shop=…) otherwise. The app loads {base}/app-bridge.js, which gives it
// window.shopify.config {apiKey, shop, host}, window.shopify.idToken() (a Promise of a fresh
// ID token: the frame asks the admin page by postMessage, the admin page gets one from
// POST /shops/{shop}/admin/id-token), window.shopify.toast.show(message), and a fetch
// wrapper adding "Authorization: Bearer <ID token>" to same-origin requests. Messages are
// accepted only between the app's origin and the platform's.
//
// # Checkout
//
// checkout.go describes how the stand-in runs our function (the fetch input built from the
// extension's own input query, the endpoint calls with the 2 s limit) and how it applies the
// operations and combines discounts; payments.go how it then runs the payment customizations,
// hides the payment methods they hide and refuses an order by one.
package standin
