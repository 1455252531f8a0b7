package standin

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const bulkOrders = `{
  orders(query: "created_at:>=2020-01-01") {
    edges {
      node {
        id
        name
        createdAt
        cancelledAt
        displayFinancialStatus
        paymentGatewayNames
        discountCodes
        customer { id }
        totalPriceSet { shopMoney { amount currencyCode } }
        lineItems {
          edges { node { id quantity originalUnitPriceSet { shopMoney { amount } } variant { id } product { id } } }
        }
        discountApplications {
          edges { node { __typename index ... on DiscountCodeApplication { code } ... on AutomaticDiscountApplication { title } } }
        }
      }
    }
  }
}`

const runBulk = `mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status url } userErrors { field code message } } }`

func testBulkOperationJSONL(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, func(c *Config) { c.AsyncDelay = 2 * time.Second })
	token := h.installToken()
	data := h.mustData(token, runBulk, map[string]any{"q": bulkOrders})
	op := dig(data, "bulkOperationRunQuery", "bulkOperation").(map[string]any)
	if op["status"] != "CREATED" || op["url"] != nil {
		t.Fatalf("created %v (%v)", op, dig(data, "bulkOperationRunQuery", "userErrors"))
	}
	// One query at a time.
	data = h.mustData(token, runBulk, map[string]any{"q": bulkOrders})
	if dig(data, "bulkOperationRunQuery", "userErrors", 0, "code") != "OPERATION_IN_PROGRESS" {
		t.Errorf("second operation %v", data)
	}
	const poll = `query($id: ID!) {
		node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url completedAt } }
		currentBulkOperation { id status }
	}`
	h.clock.Advance(time.Second)
	data = h.mustData(token, poll, map[string]any{"id": op["id"]})
	if dig(data, "node", "status") != "RUNNING" || dig(data, "currentBulkOperation", "id") != op["id"] {
		t.Errorf("running %v", data)
	}
	h.clock.Advance(time.Second)
	data = h.mustData(token, poll, map[string]any{"id": op["id"]})
	node := data["node"].(map[string]any)
	if node["status"] != "COMPLETED" || node["url"] == nil || node["rootObjectCount"] != "300" {
		t.Fatalf("completed %v", node)
	}

	resp, err := http.Get(node["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("file: %d", resp.StatusCode)
	}
	orders := map[string]bool{}
	var lastOrder string
	lines, items, apps := 0, 0, 0
	scan := bufio.NewScanner(resp.Body)
	scan.Buffer(make([]byte, 1<<20), 1<<20)
	for scan.Scan() {
		lines++
		var obj map[string]any
		if err := json.Unmarshal(scan.Bytes(), &obj); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if _, ok := obj["edges"]; ok {
			t.Fatalf("line %d keeps edges: %s", lines, scan.Bytes())
		}
		parent, hasParent := obj["__parentId"].(string)
		switch {
		case !hasParent:
			id := obj["id"].(string)
			if !strings.HasPrefix(id, "gid://shopify/Order/") {
				t.Fatalf("root line %s", scan.Bytes())
			}
			if _, ok := obj["lineItems"]; ok {
				t.Fatalf("nested connection left in the parent: %s", scan.Bytes())
			}
			if dig(obj, "totalPriceSet", "shopMoney", "currencyCode") != "USD" {
				t.Errorf("order line %s", scan.Bytes())
			}
			orders[id] = true
			lastOrder = id
		case parent != lastOrder:
			t.Fatalf("child line %d points at %s, not the order before it (%s)", lines, parent, lastOrder)
		case strings.HasPrefix(str(obj["id"]), "gid://shopify/LineItem/"):
			items++
			if obj["quantity"] == nil || dig(obj, "variant", "id") == nil {
				t.Errorf("line item %s", scan.Bytes())
			}
		default:
			apps++
			if obj["__typename"] != "DiscountCodeApplication" || obj["code"] == nil {
				t.Errorf("discount application %s", scan.Bytes())
			}
		}
	}
	if len(orders) != 300 || items < 300 || apps == 0 {
		t.Errorf("%d orders, %d line items, %d discount applications", len(orders), items, apps)
	}
	if node["objectCount"] != strconv.Itoa(lines) {
		t.Errorf("objectCount %v, %d lines", node["objectCount"], lines)
	}

	// A query without a connection is refused with a userError.
	data = h.mustData(token, runBulk, map[string]any{"q": `{ shop { name } }`})
	if dig(data, "bulkOperationRunQuery", "userErrors", 0, "message") != "Bulk queries must contain at least one connection." {
		t.Errorf("no connection: %v", data)
	}
	data = h.mustData(token, runBulk, map[string]any{"q": `{ orders { edges { node { name lineItems { edges { node { id } } } } } } }`})
	if !strings.Contains(dig(data, "bulkOperationRunQuery", "userErrors", 0, "message").(string), "must select the 'id' field") {
		t.Errorf("no parent id: %v", data)
	}
	data = h.mustData(token, runBulk, map[string]any{"q": `{ orders { edges { node { nope } } } }`})
	if !strings.HasPrefix(dig(data, "bulkOperationRunQuery", "userErrors", 0, "message").(string), "Invalid bulk query:") {
		t.Errorf("invalid: %v", data)
	}
}

func testBulkOperationWithoutResults(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	data := h.mustData(token, runBulk, map[string]any{"q": `{ orders(query: "created_at:>=2099-01-01") { edges { node { id } } } }`})
	id := dig(data, "bulkOperationRunQuery", "bulkOperation", "id")
	data = h.mustData(token, `query($id: ID!) { node(id: $id) { ... on BulkOperation { status url objectCount } } }`, map[string]any{"id": id})
	if dig(data, "node", "status") != "COMPLETED" || dig(data, "node", "url") != nil || dig(data, "node", "objectCount") != "0" {
		t.Errorf("empty %v", data)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
