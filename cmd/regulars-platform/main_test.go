package main

import (
	"io"
	"testing"

	"github.com/regularsapp/regulars/standin"
)

func TestParseOptions(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	o, err := parseOptions(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:8081" || o.baseURL != "http://127.0.0.1:8081" || o.appURL != standin.DefaultAppURL ||
		o.clientID != standin.DevClientID || o.clientSecret != standin.DevClientSecret || o.seed != standin.DefaultSeed {
		t.Errorf("defaults %+v", o)
	}
	env["SHOPIFY_API_SECRET"] = "from-env"
	env["REGULARS_PLATFORM_URL"] = "http://platform.test"
	o, err = parseOptions([]string{"-addr", "127.0.0.1:9999", "-seed", "7"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.clientSecret != "from-env" || o.baseURL != "http://platform.test" || o.addr != "127.0.0.1:9999" || o.seed != 7 {
		t.Errorf("overrides %+v", o)
	}
	if _, err := parseOptions([]string{"-addr", "nope"}, getenv, io.Discard); err == nil {
		t.Error("a bad address was accepted")
	}
}
