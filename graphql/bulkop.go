package graphql

// BulkOperationNode is a bulk operation as BulkOperationByID selects it (bound in
// operations/bulk.graphql; the fields match that selection).
type BulkOperationNode struct {
	ID             string              `json:"id"`
	Status         BulkOperationStatus `json:"status"`
	ErrorCode      string              `json:"errorCode"` // a BulkOperationErrorCode, "" if none
	ObjectCount    UnsignedInt64       `json:"objectCount"`
	URL            URL                 `json:"url"`
	PartialDataURL URL                 `json:"partialDataUrl"`
}
