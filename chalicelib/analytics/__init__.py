"""Analytics: player beacons, the event store, api.video's /data."""
