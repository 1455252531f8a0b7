package standin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token endpoint grant types and token types.
const (
	grantTokenExchange      = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantRefreshToken       = "refresh_token"
	grantAuthorizationCode  = "authorization_code"
	tokenTypeIDToken        = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOfflineAccess  = "urn:shopify:params:oauth:token-type:offline-access-token"
	errInvalidSubjectToken  = "invalid_subject_token"
	errInvalidGrant         = "invalid_grant"
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errUnsupportedGrantType = "unsupported_grant_type"
)

// errBadIDToken is an ID token that does not verify.
var errBadIDToken = errors.New("invalid ID token")

// SignQuery is the platform's signature of a query string (reference 1.2): drop hmac and
// signature, join repeated keys with ",", sort the keys, form-encode every key and value with
// spaces as %20, join with "&", and write the hex HMAC-SHA256 under the client secret.
func SignQuery(secret []byte, q url.Values) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signableQuery(q)))
	return hex.EncodeToString(mac.Sum(nil))
}

func signableQuery(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k == "hmac" || k == "signature" {
			continue
		}
		c.Set(k, strings.Join(v, ","))
	}
	return strings.ReplaceAll(c.Encode(), "+", "%20")
}

// hostParam is the host parameter of the shop's admin: base64 (no padding) of
// "admin.regulars.test/store/<name>".
func hostParam(domain string) string {
	return base64.RawStdEncoding.EncodeToString([]byte("admin.regulars.test/store/" + shopName(domain)))
}

// MintIDToken signs an ID token (App Bridge session token) for shop, valid for one minute.
func MintIDToken(secret []byte, clientID, domain string, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"iss":  "https://" + domain + "/admin",
		"dest": "https://" + domain,
		"aud":  clientID,
		"sub":  "1",
		"exp":  now.Add(idTokenTTL).Unix(),
		"nbf":  now.Unix(),
		"iat":  now.Unix(),
		"jti":  randomUUID(),
		"sid":  randomHex(16),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("mint ID token: %w", err)
	}
	return signed, nil
}

// verifyIDToken checks an ID token as the platform's token endpoint does: HS256 under the
// client secret, aud the client id, not expired (no leeway), iss and dest naming the shop.
func verifyIDToken(secret []byte, clientID, domain, token string, now time.Time) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(clientID), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadIDToken, err)
	}
	if claims["dest"] != "https://"+domain || claims["iss"] != "https://"+domain+"/admin" {
		return fmt.Errorf("%w: it was issued for another shop", errBadIDToken)
	}
	return nil
}

// handleAuthorize is the grant screen. GET shows the scopes and an Approve button (or approves
// at once with auto=1); POST is the Approve button.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	domain := r.PathValue("shop")
	q := r.Form
	clientID, redirectURI, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	scopes := splitScopes(q.Get("scope"))
	if len(scopes) == 0 {
		scopes = splitScopes(s.cfg.Scopes)
	}
	s.mu.Lock()
	sh := s.lookupShop(domain)
	s.mu.Unlock()
	switch {
	case sh == nil:
		s.renderError(w, http.StatusNotFound, "There is no shop "+domain+".")
		return
	case clientID != s.cfg.ClientID:
		s.renderError(w, http.StatusBadRequest, "Oauth error invalid_request: The client_id is invalid.")
		return
	case !slices.Contains(s.cfg.RedirectURLs, redirectURI):
		s.renderError(w, http.StatusBadRequest, "Oauth error invalid_request: The redirect_uri is not whitelisted.")
		return
	}
	if r.Method == http.MethodGet && q.Get("auto") != "1" {
		s.render(w, http.StatusOK, "authorize.html", map[string]any{
			"Shop": domain, "Scopes": scopes, "Action": r.URL.Path,
			"ClientID": clientID, "RedirectURI": redirectURI, "State": state, "Scope": strings.Join(scopes, ","),
		})
		return
	}
	if r.Method == http.MethodPost && q.Get("decision") != "approve" {
		http.Redirect(w, r, "/shops/"+domain+"/admin", http.StatusSeeOther)
		return
	}
	now := s.now()
	code := randomHex(16)
	s.mu.Lock()
	sh.AuthCodes[code] = &authCode{Code: code, Scopes: scopes, ExpiresAt: now.Add(authCodeTTL)}
	s.mu.Unlock()
	cb := url.Values{}
	cb.Set("code", code)
	cb.Set("host", hostParam(domain))
	cb.Set("shop", domain)
	cb.Set("state", state)
	cb.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	cb.Set("hmac", SignQuery([]byte(s.cfg.ClientSecret), cb))
	s.log.Info("oauth: approved", "shop", domain, "scopes", strings.Join(scopes, ","))
	http.Redirect(w, r, redirectURI+"?"+strings.ReplaceAll(cb.Encode(), "+", "%20"), http.StatusFound)
}

// tokenRequest is the token endpoint's body, as a form or as JSON.
type tokenRequest struct {
	ClientID           string `json:"client_id"`
	ClientSecret       string `json:"client_secret"`
	Code               string `json:"code"`
	GrantType          string `json:"grant_type"`
	SubjectToken       string `json:"subject_token"`
	SubjectTokenType   string `json:"subject_token_type"`
	RequestedTokenType string `json:"requested_token_type"`
	RefreshToken       string `json:"refresh_token"`
	Expiring           string `json:"-"`
}

func readTokenRequest(r *http.Request) (tokenRequest, error) {
	var req tokenRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			return req, fmt.Errorf("read body: %w", err)
		}
		var raw map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return req, fmt.Errorf("body: %w", err)
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return req, fmt.Errorf("body: %w", err)
		}
		switch v := raw["expiring"].(type) {
		case string:
			req.Expiring = v
		case json.Number:
			req.Expiring = v.String()
		case bool:
			if v {
				req.Expiring = "1"
			}
		}
		return req, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return req, fmt.Errorf("form: %w", err)
	}
	f := r.Form
	req = tokenRequest{
		ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret"), Code: f.Get("code"),
		GrantType: f.Get("grant_type"), SubjectToken: f.Get("subject_token"),
		SubjectTokenType: f.Get("subject_token_type"), RequestedTokenType: f.Get("requested_token_type"),
		RefreshToken: f.Get("refresh_token"), Expiring: f.Get("expiring"),
	}
	return req, nil
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// handleAccessToken is the token endpoint: authorization code, token exchange and refresh.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	req, err := readTokenRequest(r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, errInvalidRequest, err.Error())
		return
	}
	if req.ClientID != s.cfg.ClientID || !hmac.Equal([]byte(req.ClientSecret), []byte(s.cfg.ClientSecret)) {
		oauthError(w, http.StatusUnauthorized, errInvalidClient, "The client_id or client_secret is invalid.")
		return
	}
	domain := r.PathValue("shop")
	now := s.now()
	expiring := req.Expiring == "1" || req.Expiring == "true"

	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.lookupShop(domain)
	if sh == nil {
		oauthError(w, http.StatusNotFound, errInvalidRequest, "Unknown shop.")
		return
	}
	var scopes []string
	switch {
	case req.GrantType == grantRefreshToken:
		rt := sh.RefreshTokens[req.RefreshToken]
		if rt == nil || !now.Before(rt.ExpiresAt) {
			delete(sh.RefreshTokens, req.RefreshToken)
			oauthError(w, http.StatusBadRequest, errInvalidGrant, "The refresh token is invalid, expired or was already used.")
			return
		}
		delete(sh.RefreshTokens, req.RefreshToken) // single use: both tokens rotate
		scopes = rt.Scopes
		expiring = true
	case req.GrantType == grantTokenExchange:
		if req.SubjectTokenType != tokenTypeIDToken {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, "subject_token_type must be "+tokenTypeIDToken+".")
			return
		}
		if req.RequestedTokenType != "" && req.RequestedTokenType != tokenTypeOfflineAccess {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, "The stand-in issues offline access tokens only.")
			return
		}
		if err := verifyIDToken([]byte(s.cfg.ClientSecret), s.cfg.ClientID, domain, req.SubjectToken, now); err != nil {
			s.log.Info("oauth: token exchange refused", "shop", domain, "err", err)
			oauthError(w, http.StatusBadRequest, errInvalidSubjectToken, "The subject token is invalid or expired.")
			return
		}
		if sh.Install == nil {
			oauthError(w, http.StatusBadRequest, errInvalidSubjectToken, "The app is not installed on this shop.")
			return
		}
		scopes = sh.Install.Scopes
	case req.GrantType == "" || req.GrantType == grantAuthorizationCode:
		ac := sh.AuthCodes[req.Code]
		delete(sh.AuthCodes, req.Code) // single use
		if ac == nil || !now.Before(ac.ExpiresAt) {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, "The authorization code was not found or was already used.")
			return
		}
		scopes = ac.Scopes
		if sh.Install == nil {
			sh.Install = &install{InstalledAt: now}
		}
		sh.Install.Scopes = scopes
	default:
		oauthError(w, http.StatusBadRequest, errUnsupportedGrantType, "Unsupported grant_type.")
		return
	}
	writeJSON(w, http.StatusOK, s.issueTokens(sh, scopes, expiring, now))
	s.log.Info("oauth: token issued", "shop", domain, "grant", firstNonEmpty(req.GrantType, grantAuthorizationCode), "expiring", expiring)
}

// issueTokens mints an access token (and, when expiring, a refresh token, retiring every
// other refresh token of the shop: one refreshable token per app and shop). The caller holds
// s.mu.
func (s *Server) issueTokens(sh *shop, scopes []string, expiring bool, now time.Time) map[string]any {
	at := &accessToken{Token: "shpat_" + randomHex(16), Scopes: scopes}
	out := map[string]any{"access_token": at.Token, "scope": strings.Join(scopes, ",")}
	if expiring {
		at.ExpiresAt = now.Add(accessTokenTTL)
		clear(sh.RefreshTokens)
		rt := &refreshToken{Token: "shprt_" + randomHex(16), Scopes: scopes, ExpiresAt: now.Add(refreshTokenTTL)}
		sh.RefreshTokens[rt.Token] = rt
		out["expires_in"] = int(accessTokenTTL / time.Second)
		out["refresh_token"] = rt.Token
		out["refresh_token_expires_in"] = int(refreshTokenTTL / time.Second)
	}
	sh.AccessTokens[at.Token] = at
	return out
}

// validToken is the shop's unexpired access token, or nil. The caller holds s.mu.
func validToken(sh *shop, token string, now time.Time) *accessToken {
	if token == "" || sh.Install == nil {
		return nil
	}
	at := sh.AccessTokens[token]
	if at == nil || (!at.ExpiresAt.IsZero() && !now.Before(at.ExpiresAt)) {
		return nil
	}
	return at
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
