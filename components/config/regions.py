"""Where GCP can put the cluster, database and bucket.

A region that does not exist otherwise fails late: after the VPC and service accounts are made,
GKE or Cloud SQL refuses it. The list is `gcloud compute regions list` (December 2025); when
Google opens a region, add it here.
"""

GCP_REGIONS = frozenset(
    {
        "africa-south1",
        "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
        "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2", "asia-southeast3",
        "australia-southeast1", "australia-southeast2",
        "europe-central2", "europe-north1", "europe-north2", "europe-southwest1",
        "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
        "europe-west8", "europe-west9", "europe-west10", "europe-west12",
        "me-central1", "me-central2", "me-west1",
        "northamerica-northeast1", "northamerica-northeast2", "northamerica-south1",
        "southamerica-east1", "southamerica-west1",
        "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
        "us-west1", "us-west2", "us-west3", "us-west4",
    }
)  # fmt: skip
# Cloud Storage's multi-regions and predefined dual-regions (any region works too).
MULTI_REGIONS = frozenset({"US", "EU", "ASIA"})
DUAL_REGIONS = frozenset({"ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"})
BUCKET_LOCATIONS_WORDS = (
    "a GCP region such as europe-west1, a multi-region (US, EU, ASIA) or a dual-region "
    "(ASIA1, EUR4, EUR5, EUR7, EUR8, NAM4)"
)


def is_bucket_location(location: str) -> bool:
    """Cloud Storage takes locations in either case (it reports them upper-case)."""
    upper = location.upper()
    return upper in MULTI_REGIONS or upper in DUAL_REGIONS or location.lower() in GCP_REGIONS
