"""Players (api.video PlayerThemesApi), the embed page that plays a video with its player, and oEmbed."""
