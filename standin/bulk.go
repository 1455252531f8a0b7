package standin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Bulk operations (queries only). The stand-in's subset of the platform's rules:
//
//   - the query is one query operation with at least one and at most 5 connections, nested
//     at most 2 levels below the top-level connection;
//   - a nested connection must be a field of its parent connection's node, and that node
//     must select id (without an alias): child lines point at it with __parentId;
//   - connections inside lists of objects are refused;
//   - pagination arguments (first, last, after, before) are ignored: every item is read; the
//     other arguments (query, sortKey, reverse) apply;
//   - root fields that are not connections are ignored.
//
// The result is JSONL, one object per line, in the order the platform writes it (grouped):
// each node of the top-level connection, without its nested connections, followed by the
// nodes of its nested connections, each with "__parentId": the parent node's id. Edges,
// cursors and pageInfo do not appear. An operation without any object completes with url
// null. The file is served at {base}/bulk/{random}.jsonl.

const (
	maxBulkConnections = 5
	maxBulkDepth       = 2
)

func (c *reqCtx) bulkOperationRunQuery(args map[string]any) (any, error) {
	query, _ := strArg(args, "query")
	fail := func(code, msg string) (any, error) {
		return map[string]any{"bulkOperation": nil, "userErrors": errorsObj([]userError{{
			Code: code, Field: []string{"query"}, Message: msg,
		}})}, nil
	}
	for _, op := range c.sh.BulkOps {
		if op.Status == "CREATED" || op.Status == "RUNNING" {
			return map[string]any{"bulkOperation": nil, "userErrors": errorsObj([]userError{{
				Code:    "OPERATION_IN_PROGRESS",
				Message: "A bulk query operation for this app and shop is already in progress: " + gid("BulkOperation", op.ID) + ".",
			}})}, nil
		}
	}
	doc, errs := parseAndValidate(c.s.admin, query)
	if len(errs) > 0 {
		return fail("INVALID", "Invalid bulk query: "+errs[0].Message)
	}
	if msg := checkBulkQuery(c.s.admin, doc); msg != "" {
		return fail("INVALID", msg)
	}
	op := &bulkOp{
		ID: c.s.w.id(), Query: query, Status: "CREATED", CreatedAt: c.now,
		ReadyAt: c.now.Add(c.s.cfg.AsyncDelay), BaseURL: c.baseURL, Scopes: c.scopes,
	}
	c.sh.BulkOps = append(c.sh.BulkOps, op)
	c.s.log.Info("bulk operation created", "shop", c.sh.Domain, "id", gid("BulkOperation", op.ID))
	return map[string]any{"bulkOperation": c.bulkOpObj(op), "userErrors": []any{}}, nil
}

// checkBulkQuery applies the bulk rules above; "" when the query is acceptable.
func checkBulkQuery(schema *ast.Schema, doc *ast.QueryDocument) string {
	if len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Query {
		return "Bulk queries must contain exactly one query operation."
	}
	count := 0
	problem := ""
	var walk func(sel ast.SelectionSet, depth int, inList, inNode bool)
	walk = func(sel ast.SelectionSet, depth int, inList, inNode bool) {
		for _, f := range flatFields(sel) {
			if problem != "" || f.Definition == nil {
				return
			}
			def := schema.Types[f.Definition.Type.Name()]
			if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
				continue
			}
			if !isConnectionType(def) {
				walk(f.SelectionSet, depth, inList || f.Definition.Type.Elem != nil, false)
				continue
			}
			count++
			switch {
			case inList:
				problem = "Queries that contain a connection field within a list field are not currently supported."
			case depth > maxBulkDepth:
				problem = "Bulk queries cannot contain connections with a nesting depth greater than 2."
			case count > maxBulkConnections:
				problem = "Bulk queries cannot contain more than 5 connections."
			case depth > 0 && !inNode:
				problem = "Nested connections must be fields of their parent connection's node."
			}
			for _, nodeSel := range nodeSelections(f.SelectionSet) {
				if connectionsIn(schema, nodeSel) && !selectsID(nodeSel) {
					problem = "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type."
				}
				walk(nodeSel, depth+1, false, true)
			}
		}
	}
	walk(doc.Operations[0].SelectionSet, 0, false, false)
	switch {
	case problem != "":
		return problem
	case count == 0:
		return "Bulk queries must contain at least one connection."
	}
	return ""
}

// flatFields lists the fields of sel, fragments expanded.
func flatFields(sel ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, flatFields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				out = append(out, flatFields(s.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

// nodeSelections are the node selections of a connection: edges { node {…} } and nodes {…}.
func nodeSelections(connSel ast.SelectionSet) []ast.SelectionSet {
	var out []ast.SelectionSet
	for _, f := range flatFields(connSel) {
		switch f.Name {
		case "nodes":
			out = append(out, f.SelectionSet)
		case "edges":
			for _, g := range flatFields(f.SelectionSet) {
				if g.Name == "node" {
					out = append(out, g.SelectionSet)
				}
			}
		}
	}
	return out
}

func connectionsIn(schema *ast.Schema, sel ast.SelectionSet) bool {
	for _, f := range flatFields(sel) {
		if f.Definition != nil {
			if def := schema.Types[f.Definition.Type.Name()]; def != nil && isConnectionType(def) {
				return true
			}
		}
	}
	return false
}

func selectsID(sel ast.SelectionSet) bool {
	for _, f := range flatFields(sel) {
		if f.Name == "id" && (f.Alias == "" || f.Alias == "id") {
			return true
		}
	}
	return false
}

// runBulkOp runs a bulk query and stores its JSONL. The caller holds s.mu.
func (s *Server) runBulkOp(sh *shop, op *bulkOp, now time.Time) {
	finish := func(status, code string) {
		op.Status, op.ErrorCode = status, code
		t := now
		op.CompletedAt = &t
		s.log.Info("bulk operation finished", "shop", sh.Domain, "id", gid("BulkOperation", op.ID),
			"status", status, "objects", op.ObjectCount)
	}
	doc, errs := parseAndValidate(s.admin, op.Query)
	if len(errs) > 0 {
		finish("FAILED", "INTERNAL_SERVER_ERROR")
		return
	}
	ctx := &reqCtx{s: s, sh: sh, now: now, scopes: op.Scopes, baseURL: op.BaseURL}
	e := &executor{schema: s.admin, vars: map[string]any{}, bulk: true}
	data := e.run(doc.Operations[0], s.queryRoot(ctx))
	for _, ge := range e.errors {
		if ge.Extensions["code"] == "ACCESS_DENIED" {
			finish("FAILED", "ACCESS_DENIED")
			return
		}
	}
	if len(e.errors) > 0 || data == nil {
		finish("FAILED", "INTERNAL_SERVER_ERROR")
		return
	}
	var buf bytes.Buffer
	for _, v := range data.vals {
		if c, ok := v.(*object); ok && c.conn {
			op.RootObjectCount += flattenConnection(&buf, c, "", &op.ObjectCount)
		}
	}
	if buf.Len() > 0 {
		op.FileKey = randomHex(16)
		op.FileSize = buf.Len()
		s.w.bulkFiles[op.FileKey] = buf.Bytes()
	}
	finish("COMPLETED", "")
}

// flattenConnection writes the nodes of c (and, after each, its nested connections' nodes)
// as JSONL lines; it returns how many nodes c had.
func flattenConnection(buf *bytes.Buffer, c *object, parentID string, objects *int) int {
	var nodes []*object
	if edges, ok := c.get("edges"); ok {
		list, _ := edges.([]any)
		for _, e := range list {
			if eo, ok := e.(*object); ok {
				if n, ok := eo.get("node"); ok {
					if no, ok := n.(*object); ok {
						nodes = append(nodes, no)
					}
				}
			}
		}
	} else if list, ok := c.get("nodes"); ok {
		l, _ := list.([]any)
		for _, n := range l {
			if no, ok := n.(*object); ok {
				nodes = append(nodes, no)
			}
		}
	}
	for _, n := range nodes {
		line := &object{}
		var children []*object
		for i, k := range n.keys {
			if child, ok := n.vals[i].(*object); ok && child.conn {
				children = append(children, child)
				continue
			}
			line.set(k, n.vals[i])
		}
		if parentID != "" {
			line.set("__parentId", parentID)
		}
		b, err := json.Marshal(line)
		if err != nil {
			continue
		}
		buf.Write(b)
		buf.WriteByte('\n')
		*objects++
		id, _ := n.get("id")
		idStr, _ := id.(string)
		for _, child := range children {
			flattenConnection(buf, child, idStr, objects)
		}
	}
	return len(nodes)
}

func (s *Server) handleBulkFile(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutSuffix(r.PathValue("file"), ".jsonl")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	b, found := s.w.bulkFiles[key]
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	_, _ = w.Write(b)
}
