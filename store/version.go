package store

import (
	"context"
	"fmt"
	"time"
)

// Dialect names the database in use: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// OfferSetVersion is a short string that changes whenever anything the checkout compiles for
// the shop changes: the shop row (currency, timezone, settings, install state), an offer
// (created, saved, deleted) or a segment (saved, deleted). Compare it for equality only. It
// is one query on primary-key prefixes. ErrNotFound if the shop does not exist.
//
// Offers carry a version that grows on every change, so offer changes are always seen.
// Segments are seen through their count and newest UpdatedAt: an edit of an older segment is
// missed only if it is stamped no later than the newest one, which takes app processes whose
// clocks disagree by more than the time between two edits.
func (s *Store) OfferSetVersion(ctx context.Context, shop string) (string, error) {
	var v struct {
		ShopUpdated     time.Time `gorm:"column:shop_updated"`
		Offers          int64     `gorm:"column:offers"`
		OfferVersions   int64     `gorm:"column:offer_versions"`
		Segments        int64     `gorm:"column:segments"`
		SegmentsUpdated *string   `gorm:"column:segments_updated"`
	}
	res := s.db.WithContext(ctx).Raw(`SELECT s.updated_at AS shop_updated,
			(SELECT COUNT(*) FROM offers o WHERE o.shop = s.domain) AS offers,
			(SELECT CAST(COALESCE(SUM(o.version), 0) AS BIGINT) FROM offers o WHERE o.shop = s.domain) AS offer_versions,
			(SELECT COUNT(*) FROM segments g WHERE g.shop = s.domain) AS segments,
			(SELECT CAST(MAX(g.updated_at) AS TEXT) FROM segments g WHERE g.shop = s.domain) AS segments_updated
		FROM shops s WHERE s.domain = ?`, shop).Scan(&v)
	if res.Error != nil {
		return "", fmt.Errorf("store: offer set version of %q: %w", shop, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return "", fmt.Errorf("store: offer set version of %q: %w", shop, ErrNotFound)
	}
	segmentsUpdated := ""
	if v.SegmentsUpdated != nil {
		segmentsUpdated = *v.SegmentsUpdated
	}
	return fmt.Sprintf("%d.%d.%d.%d.%s", v.ShopUpdated.UnixMicro(), v.Offers, v.OfferVersions, v.Segments, segmentsUpdated), nil
}
