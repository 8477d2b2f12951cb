"""The desired-state vocabulary: resource addresses (`Kind/name`), the kinds, and the
DesiredState value the loader builds from manifests."""
