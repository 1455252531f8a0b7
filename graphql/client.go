package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	gql "github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// AccessTokenHeader carries the shop's access token on every Admin API request.
const AccessTokenHeader = "X-Shopify-Access-Token"

// ErrThrottled is returned (wrapped) when the platform still refuses a request for its cost
// after the client has waited and retried as often as it may.
var ErrThrottled = errors.New("graphql: throttled by the platform")

// Retry policy defaults (see Option).
const (
	defaultThrottleRetries  = 8
	defaultTransientRetries = 4
	defaultBackoff          = 500 * time.Millisecond
	maxBackoff              = 30 * time.Second
	// maxWait bounds one wait, whatever the platform asks for.
	maxWait = time.Minute
	// minThrottleWait is the least a throttled request waits: the bucket refills
	// continuously, and asking again at once only spends a request.
	minThrottleWait = 250 * time.Millisecond
)

// Client calls the Admin GraphQL API of any installed shop. It is safe for concurrent use.
//
// Every request carries the shop's access token (one http.RoundTripper sets the header). A
// request the platform refuses for its cost (THROTTLED, or HTTP 429) is retried after the
// wait the cost extension implies (or the Retry-After header); HTTP 503 is retried after
// Retry-After; network failures and other 5xx answers are retried with exponential backoff.
// Mutations are retried only when the platform cannot have run them (throttled, 429, 503, or
// a connection that was never made), so a create is never sent twice after an ambiguous
// failure. Waits select on the context: a cancelled context ends them at once.
type Client struct {
	http *http.Client // adds the access token
	raw  *http.Client // downloads signed result files: no token
	url  func(shop string) string
	wait func(ctx context.Context, d time.Duration) error
	now  func() time.Time

	throttleRetries  int
	transientRetries int
	backoff          time.Duration
}

// Option adjusts a Client.
type Option func(*Client)

// WithWait replaces how the client waits between attempts (and between polls). The default
// waits on a timer, or until ctx is done. Tests use it to record the waits instead of
// spending them.
func WithWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.wait = wait }
}

// WithRetries sets how many times a throttled request and a transiently failed request are
// retried (defaults 8 and 4).
func WithRetries(throttled, transient int) Option {
	return func(c *Client) { c.throttleRetries, c.transientRetries = max(throttled, 0), max(transient, 0) }
}

// WithClock sets the clock used to read an HTTP-date Retry-After (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) { c.now = now }
}

// New returns a client that sends requests with httpClient (nil: a client with a 60 s
// timeout) to url(shop), the shop's Admin GraphQL endpoint, authenticated with token(ctx,
// shop). Bulk result files are downloaded with httpClient's transport and no overall
// timeout (see OpenBulkResult).
func New(httpClient *http.Client, url func(shop string) string, token func(ctx context.Context, shop string) (string, error), opts ...Option) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: time.Minute}
	}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	authed := *httpClient
	authed.Transport = &tokenTransport{base: base, token: token}
	// Result files can be large: their download is bounded by its context, not a timeout.
	raw := *httpClient
	raw.Timeout = 0
	c := &Client{
		http:             &authed,
		raw:              &raw,
		url:              url,
		wait:             SleepContext,
		now:              time.Now,
		throttleRetries:  defaultThrottleRetries,
		transientRetries: defaultTransientRetries,
		backoff:          defaultBackoff,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// SleepContext waits d, or until ctx is done (then it returns ctx's error).
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// shopKey carries the shop of a request to tokenTransport.
type shopKey struct{}

// tokenTransport sets the access token of the request's shop.
type tokenTransport struct {
	base  http.RoundTripper
	token func(ctx context.Context, shop string) (string, error)
}

// tokenError is a failure to get the access token: never retried.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "access token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	shop, _ := req.Context().Value(shopKey{}).(string)
	if shop == "" {
		return nil, &tokenError{errors.New("no shop for this request")}
	}
	tok, err := t.token(req.Context(), shop)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &tokenError{err}
	}
	r := req.Clone(req.Context())
	r.Header.Set(AccessTokenHeader, tok)
	return t.base.RoundTrip(r)
}

// ForShop returns a genqlient client for one shop's Admin API, with the throttling and retries
// described on Client.
func (c *Client) ForShop(shop string) gql.Client { return shopClient{c: c, shop: shop} }

type shopClient struct {
	c    *Client
	shop string
}

func (s shopClient) MakeRequest(ctx context.Context, req *gql.Request, resp *gql.Response) error {
	return s.c.do(ctx, s.shop, req, resp)
}

// attempt records what an HTTP exchange said beyond its body.
type attempt struct {
	status     int
	retryAfter string
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// do sends one operation, retrying as Client describes.
func (c *Client) do(ctx context.Context, shop string, req *gql.Request, resp *gql.Response) error {
	op := req.OpName
	mutation := strings.HasPrefix(strings.TrimSpace(req.Query), "mutation")
	data := resp.Data // a failed attempt may replace it (with "data": null)
	ctx = context.WithValue(ctx, shopKey{}, shop)
	throttled, failed := 0, 0
	for {
		resp.Data, resp.Errors, resp.Extensions = data, nil, nil
		var at attempt
		inner := gql.NewClient(c.url(shop), doerFunc(func(r *http.Request) (*http.Response, error) {
			res, err := c.http.Do(r)
			if res != nil {
				at.status, at.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
			}
			return res, err
		}))
		err := inner.MakeRequest(ctx, req, resp)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("graphql: %s for %s: %w", op, shop, ctx.Err())
		}
		d := c.classify(err, at, resp, mutation)
		var wait time.Duration
		switch d.kind {
		case outcomeThrottled:
			throttled++
			if throttled > c.throttleRetries {
				return fmt.Errorf("graphql: %s for %s: %w (gave up after %d attempts)", op, shop, ErrThrottled, throttled)
			}
			wait = d.wait
		case outcomeTransient:
			failed++
			if failed > c.transientRetries {
				return fmt.Errorf("graphql: %s for %s: gave up after %d attempts: %w", op, shop, failed, err)
			}
			wait = d.wait
			if wait == 0 {
				wait = min(c.backoff<<(failed-1), maxBackoff)
			}
		default:
			return fmt.Errorf("graphql: %s for %s: %w", op, shop, err)
		}
		if err := c.wait(ctx, min(wait, maxWait)); err != nil {
			return fmt.Errorf("graphql: %s for %s: %w", op, shop, err)
		}
	}
}

type outcome int

const (
	outcomeFatal outcome = iota
	outcomeThrottled
	outcomeTransient
)

type decision struct {
	kind outcome
	wait time.Duration // 0: the default backoff
}

// classify decides whether a failed attempt is retried, and after how long.
func (c *Client) classify(err error, at attempt, resp *gql.Response, mutation bool) decision {
	var tokErr *tokenError
	if errors.As(err, &tokErr) {
		return decision{kind: outcomeFatal}
	}
	errs, ext := resp.Errors, resp.Extensions
	var httpErr *gql.HTTPError
	if errors.As(err, &httpErr) {
		errs, ext = httpErr.Response.Errors, httpErr.Response.Extensions
	} else {
		var list gqlerror.List
		if errors.As(err, &list) {
			errs = list
		}
	}
	retryAfter, hasRetryAfter := parseRetryAfter(at.retryAfter, c.now())
	if throttledErrors(errs) || at.status == http.StatusTooManyRequests {
		wait := retryAfter
		if !hasRetryAfter {
			wait = throttleWait(ext)
		}
		return decision{kind: outcomeThrottled, wait: max(wait, minThrottleWait)}
	}
	if httpErr != nil {
		switch {
		case httpErr.StatusCode == http.StatusServiceUnavailable:
			return decision{kind: outcomeTransient, wait: retryAfter}
		case httpErr.StatusCode >= 500 && !mutation:
			return decision{kind: outcomeTransient, wait: retryAfter}
		}
		return decision{kind: outcomeFatal}
	}
	if errs != nil {
		return decision{kind: outcomeFatal} // the platform answered: the request is wrong
	}
	// A network failure. A mutation is retried only if it never left this process.
	var opErr *net.OpError
	if !mutation || (errors.As(err, &opErr) && opErr.Op == "dial") {
		return decision{kind: outcomeTransient}
	}
	return decision{kind: outcomeFatal}
}

// throttledErrors reports a THROTTLED error among errs.
func throttledErrors(errs gqlerror.List) bool {
	for _, e := range errs {
		if e == nil {
			continue
		}
		if code, _ := e.Extensions["code"].(string); code == "THROTTLED" {
			return true
		}
	}
	return false
}

// Cost is the platform's cost extension of one answer.
type Cost struct {
	RequestedQueryCost float64 `json:"requestedQueryCost"`
	ActualQueryCost    float64 `json:"actualQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

// CostOf reads extensions.cost; ok is false when the answer has none.
func CostOf(ext map[string]any) (Cost, bool) {
	raw, ok := ext["cost"]
	if !ok {
		return Cost{}, false
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return Cost{}, false
	}
	var cost Cost
	if err := json.Unmarshal(b, &cost); err != nil {
		return Cost{}, false
	}
	return cost, true
}

// throttleWait is how long the bucket takes to hold the request's cost again: (requested -
// available) / restoreRate seconds; one second when the answer does not say.
func throttleWait(ext map[string]any) time.Duration {
	cost, ok := CostOf(ext)
	ts := cost.ThrottleStatus
	if !ok || ts.RestoreRate <= 0 {
		return time.Second
	}
	missing := cost.RequestedQueryCost - ts.CurrentlyAvailable
	if missing <= 0 {
		return minThrottleWait
	}
	secs := math.Ceil(missing/ts.RestoreRate*1000) / 1000
	return min(time.Duration(secs*float64(time.Second)), maxWait)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return min(time.Duration(secs*float64(time.Second)), maxWait), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxWait), true
	}
	return 0, false
}
