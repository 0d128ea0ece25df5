package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cloudflare/cloudflare-go"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// KVConfig names the Workers KV namespace snapshots are published to.
type KVConfig struct {
	AccountID   string
	NamespaceID string
	// Token is a Cloudflare API token allowed to edit Workers KV.
	Token string
	// BaseURL overrides the Cloudflare API address (tests, proxies); empty
	// means the real API.
	BaseURL string
}

// Validate reports the first missing field.
func (c KVConfig) Validate() error {
	switch {
	case c.AccountID == "":
		return errors.New("publish: kv: account id missing (flag -kv-account or CLOUDFLARE_ACCOUNT_ID)")
	case c.NamespaceID == "":
		return errors.New("publish: kv: namespace id missing (flag -kv-namespace or AISLE_KV_NAMESPACE)")
	case c.Token == "":
		return errors.New("publish: kv: API token missing (environment CLOUDFLARE_API_TOKEN)")
	}
	return nil
}

// KV publishes snapshots to Workers KV through the Cloudflare API.
type KV struct {
	api *cloudflare.API
	cfg KVConfig
}

// NewKV returns a KV publisher. client may be nil for http.DefaultClient.
func NewKV(cfg KVConfig, client *http.Client) (*KV, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := []cloudflare.Option{cloudflare.UsingRetryPolicy(3, 1, 10)}
	if client != nil {
		opts = append(opts, cloudflare.HTTPClient(client))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, cloudflare.BaseURL(cfg.BaseURL))
	}
	api, err := cloudflare.NewWithAPIToken(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish: kv: %w", err)
	}
	return &KV{api: api, cfg: cfg}, nil
}

// Publish writes snapshot b of region: the content key first, then the
// pointer. If the content write fails the pointer is not touched, so edges
// keep reading the previous snapshot.
func (k *KV) Publish(ctx context.Context, region string, b []byte) (string, error) {
	info, err := snapshot.ReadInfo(b, snapshot.DefaultLimits())
	if err != nil {
		return "", fmt.Errorf("publish: kv: %w", err)
	}
	if info.Region != region {
		return "", fmt.Errorf("publish: kv: snapshot is for region %q, not %q", info.Region, region)
	}
	if len(b) > snapshot.KVMaxValueBytes {
		return "", fmt.Errorf("publish: kv: snapshot of %d bytes exceeds the Workers KV value limit of %d; build it with compression or fewer items", len(b), snapshot.KVMaxValueBytes)
	}
	rc := cloudflare.AccountIdentifier(k.cfg.AccountID)
	if _, err := k.api.WriteWorkersKVEntry(ctx, rc, cloudflare.WriteWorkersKVEntryParams{
		NamespaceID: k.cfg.NamespaceID, Key: snapshot.KVContentKey(region, info.Version), Value: b,
	}); err != nil {
		return "", fmt.Errorf("publish: kv: write snapshot %s: %w", info.Version[:12], err)
	}
	if _, err := k.api.WriteWorkersKVEntry(ctx, rc, cloudflare.WriteWorkersKVEntryParams{
		NamespaceID: k.cfg.NamespaceID, Key: snapshot.KVPointerKey(region), Value: snapshot.KVPointerValue(info.Version, len(b)),
	}); err != nil {
		return "", fmt.Errorf("publish: kv: move pointer of %s: %w", region, err)
	}
	return info.Version, nil
}
