package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Segment is a merchant-defined group of customers with its own offers. Its rules are opaque
// JSON; Priority orders a shop's segments (the engine decides what the order means).
type Segment struct {
	Shop      string
	ID        string
	Priority  int
	Config    []byte // JSON, exactly as saved
	CreatedAt time.Time
	UpdatedAt time.Time
}

type segmentRow struct {
	Shop      string    `gorm:"column:shop;primaryKey"`
	ID        string    `gorm:"column:id;primaryKey"`
	Priority  int       `gorm:"column:priority"`
	Config    string    `gorm:"column:config"`
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

func (segmentRow) TableName() string { return "segments" }

func (r segmentRow) segment() Segment {
	return Segment{
		Shop:      r.Shop,
		ID:        r.ID,
		Priority:  r.Priority,
		Config:    []byte(r.Config),
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// SaveSegment creates the segment or replaces its priority and config, and returns it as
// stored. The shop must exist (ErrNotFound otherwise) and config must be valid JSON.
func (s *Store) SaveSegment(ctx context.Context, shop, id string, priority int, config []byte) (Segment, error) {
	if err := requireNonEmpty("shop", shop, "segment id", id); err != nil {
		return Segment{}, fmt.Errorf("store: save segment %q: %w", id, err)
	}
	if !json.Valid(config) {
		return Segment{}, fmt.Errorf("store: save segment %q: %w: config is not valid JSON", id, ErrInvalid)
	}
	now := s.timestamp()
	row := segmentRow{Shop: shop, ID: id, Priority: priority, Config: string(config), CreatedAt: now, UpdatedAt: now}
	var saved segmentRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "shop"}, {Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"priority", "config", "updated_at"}),
		}).Create(&row).Error
		if err != nil {
			return err
		}
		return tx.Where("shop = ? AND id = ?", shop, id).Take(&saved).Error
	})
	if err != nil {
		return Segment{}, fmt.Errorf("store: save segment %q: %w", id, translate(err))
	}
	s.publish(ctx, shop, ChangeOffers)
	return saved.segment(), nil
}

// ListSegments returns the shop's segments by priority, then id, ascending.
func (s *Store) ListSegments(ctx context.Context, shop string) ([]Segment, error) {
	var rows []segmentRow
	err := s.db.WithContext(ctx).Where("shop = ?", shop).Order("priority, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list segments: %w", translate(err))
	}
	segments := make([]Segment, len(rows))
	for i, r := range rows {
		segments[i] = r.segment()
	}
	return segments, nil
}

// DeleteSegment removes the segment, or returns ErrNotFound.
func (s *Store) DeleteSegment(ctx context.Context, shop, id string) error {
	res := s.db.WithContext(ctx).Where("shop = ? AND id = ?", shop, id).Delete(&segmentRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete segment %q: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete segment %q: %w", id, ErrNotFound)
	}
	s.publish(ctx, shop, ChangeOffers)
	return nil
}
