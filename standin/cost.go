package standin

import (
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// The cost model (a simplification of the platform's published one):
//
//   - scalar and enum fields cost 0;
//   - an object field (or each element of a list of objects) costs 1, plus its selection;
//   - a connection costs 2 plus, for each node, the node's cost (the node object 1 plus its
//     selection); edges and pageInfo cost nothing of their own. The requested cost assumes
//     every page is full: first (or last), or 250 without either;
//   - a mutation's root field costs 10 plus its payload's selection;
//   - the requested cost counts every inline fragment of an abstract type, and one element
//     for a plain list of objects; the actual cost counts what was returned.
//
// Each shop has a leaky bucket of 1000 points restored at 50 points a second. A request
// whose requested cost is above 1000 fails with MAX_COST_EXCEEDED; one whose requested cost is
// above the points available fails with THROTTLED (HTTP 200). Otherwise the requested cost is
// taken, the operation runs, and the difference with the actual cost is given back (or taken,
// if the actual cost came out higher).

const (
	bucketSize     = 1000
	restoreRate    = 50 // points per second
	mutationCost   = 10
	connectionCost = 2
)

// bucket is a leaky bucket, kept in thousandths of a point so that restoring never needs
// floating point.
type bucket struct {
	milli int64
	at    time.Time
}

func newBucket(now time.Time) bucket { return bucket{milli: bucketSize * 1000, at: now} }

func (b *bucket) refill(now time.Time) {
	ms := now.Sub(b.at).Milliseconds()
	if ms <= 0 {
		return
	}
	b.milli = min(bucketSize*1000, b.milli+ms*restoreRate) // 50 points/s = 50 milli-points/ms
	b.at = b.at.Add(time.Duration(ms) * time.Millisecond)
}

func (b *bucket) available() int { return int(b.milli / 1000) }

func (b *bucket) take(points int) {
	b.milli = max(0, b.milli-int64(points)*1000)
}

func (b *bucket) give(points int) {
	b.milli = min(bucketSize*1000, b.milli+int64(points)*1000)
}

// requestedCost is the cost of op before it runs.
func requestedCost(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) int {
	c := costWalker{schema: schema, vars: vars, seen: map[*ast.FragmentDefinition]int{}}
	return c.selection(op.SelectionSet, op.Operation == ast.Mutation)
}

type costWalker struct {
	schema *ast.Schema
	vars   map[string]any
	seen   map[*ast.FragmentDefinition]int // depth guard against fragment cycles
}

func (c *costWalker) selection(sel ast.SelectionSet, mutationRoot bool) int {
	total := 0
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			total += c.field(s, mutationRoot)
		case *ast.InlineFragment:
			total += c.selection(s.SelectionSet, mutationRoot)
		case *ast.FragmentSpread:
			if s.Definition == nil || c.seen[s.Definition] > 0 {
				continue
			}
			c.seen[s.Definition]++
			total += c.selection(s.Definition.SelectionSet, mutationRoot)
			c.seen[s.Definition]--
		}
	}
	return total
}

func (c *costWalker) field(f *ast.Field, mutationRoot bool) int {
	if f.Definition == nil || len(f.Name) > 1 && f.Name[:2] == "__" {
		return 0
	}
	def := c.schema.Types[f.Definition.Type.Name()]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return 0
	}
	sub := c.selection(f.SelectionSet, false)
	switch {
	case mutationRoot:
		return mutationCost + sub
	case isConnectionType(def):
		n := maxPageSize
		args := safeArgs(f, c.vars)
		if v, ok := intArg(args, "first"); ok {
			n = clampPage(v)
		} else if v, ok := intArg(args, "last"); ok {
			n = clampPage(v)
		}
		return connectionCost + n*sub
	case isFreeType(def):
		return sub
	default:
		return 1 + sub
	}
}

func safeArgs(f *ast.Field, vars map[string]any) (args map[string]any) {
	defer func() {
		if recover() != nil {
			args = nil
		}
	}()
	return f.ArgumentMap(vars)
}

// costExtension is extensions.cost of every answer.
type costExtension struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

type throttleStatus struct {
	MaximumAvailable   int `json:"maximumAvailable"`
	CurrentlyAvailable int `json:"currentlyAvailable"`
	RestoreRate        int `json:"restoreRate"`
}
