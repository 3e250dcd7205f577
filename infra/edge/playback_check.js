// Videoplane: who may fetch a private video's media, at the edge (CloudFront Functions,
// cloudfront-js-2.0, viewer request on the media distribution's S3 behaviour).
//
// The same rule as chalicelib/playback/domain/access.py `media_decision` (and the devstack's media
// server): `/vod/<id>/<file>` passes unless the video is private; `/vod/<id>/token/<session>/<file>`
// is rewritten to `/vod/<id>/<file>` when the session `<kid>.<expires>.<HMAC-SHA256(id.expires)>`
// checks out, whatever the video's privacy (a video made public keeps playing in open sessions);
// a live stream's files (`/live/<liveStreamId>/...`, its thumbnail) the same with the stream's id;
// everything else passes untouched. A refusal is a 403 naming the reason, as the media server's.
//
// The key value store associated with this function holds (infra/edge.py, kept current by the
// playback context):
//   `private/<videoId>`   present while the video (or live stream: `private/<liveStreamId>`) is private;
//   `session-key/<kid>`   the base64url secret of each session key that still verifies;
//   `project/<videoId>`   the video's project, for the videos of projects that restrict countries;
//   `geo-project/<id>`    that project's restriction, `allow:FR,BE` or `deny:CN,RU`.
// A video of a restricted project is refused (`geo-blocked`) to a viewer whose country
// (CloudFront-Viewer-Country) the restriction refuses, before its session or privacy is looked at;
// an unknown country passes a deny list and fails an allow list (chalicelib/playback/domain/geo.py).
// Every refusal logs one line (CloudWatch Logs, us-east-1), which a metric filter counts by reason.
// Runs before the cache: a cached segment is checked on every request, and the rewritten URI is
// the cache key, so every session of a video shares one cached copy of each object.
import cf from 'cloudfront';

const crypto = require('crypto');
const kvs = cf.kvs();

const MEDIA = /^\/(vod\/vi[0-9A-Za-z]{22}|live\/li[0-9A-Za-z]{22})\/(?:token\/([^\/]+)\/)?(.+)$/;
const SESSION = /^([0-9A-Za-z_-]{1,32})\.([0-9]{1,12})\.([0-9A-Za-z_-]{43})$/;

async function handler(event) {
    const request = event.request;
    // The URI as sent; S3 decodes it into the key. Media keys never need encoding, so an encoded
    // URI that decodes under /vod/ or /live/ (`/vod%2F<id>/...`, `/%76od/...`) is refused, not let past.
    if (request.uri.indexOf('%') !== -1 && encodedMedia(request.uri)) {
        return refuse('malformed-token');
    }
    const media = MEDIA.exec(request.uri);
    if (media === null) {
        return request;
    }
    const folder = media[1];
    const videoId = folder.slice(folder.indexOf('/') + 1);
    const session = media[2];
    if (await geoBlocked(videoId, request.headers['cloudfront-viewer-country'])) {
        return refuse('geo-blocked', videoId);
    }
    if (session === undefined) {
        return (await kvs.exists('private/' + videoId)) ? refuse('no-token', videoId) : request;
    }
    const denial = await checkSession(session, videoId, Date.now() / 1000);
    if (denial !== null) {
        return refuse(denial, videoId);
    }
    request.uri = '/' + folder + '/' + media[3];
    return request;
}

// Whether the video's project refuses this viewer's country (no entry: no restriction).
async function geoBlocked(videoId, header) {
    let policy;
    try {
        policy = await kvs.get('geo-project/' + await kvs.get('project/' + videoId));
    } catch (unrestricted) {
        return false;
    }
    const value = header === undefined ? '' : header.value.trim().toUpperCase();
    const country = /^[A-Z]{2}$/.test(value) ? value : null;
    const colon = policy.indexOf(':');
    const listed = country !== null && policy.slice(colon + 1).split(',').indexOf(country) !== -1;
    const mode = policy.slice(0, colon);
    return mode === 'allow' ? !listed : mode === 'deny' && listed;
}

async function checkSession(session, videoId, now) {
    const parts = SESSION.exec(session);
    if (parts === null) {
        return 'malformed-token';
    }
    let secret;
    try {
        secret = await kvs.get('session-key/' + parts[1]);
    } catch (missing) {
        return 'unknown-key';
    }
    const expires = parts[2].replace(/^0+(?=[0-9])/, '');
    const key = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    const expected = crypto.createHmac('sha256', key).update(videoId + '.' + expires).digest('base64')
        .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    if (!sameText(expected, parts[3])) {
        return 'bad-signature';
    }
    return now >= Number(expires) ? 'expired' : null;
}

// Decodes each run of %XX as UTF-8 (invalid %-sequences stay as they are), as Python's unquote.
function encodedMedia(uri) {
    let invalid = false;
    const decoded = uri.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
        try {
            return decodeURIComponent(run);
        } catch (notUtf8) {
            invalid = true;
            return run;
        }
    });
    return invalid || decoded.indexOf('/vod/') === 0 || decoded.indexOf('/live/') === 0;
}

// Compares every character whatever the first difference (no early exit to time).
function sameText(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    let difference = 0;
    for (let i = 0; i < a.length; i++) {
        difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return difference === 0;
}

function refuse(reason, videoId) {
    console.log('playback-denied ' + reason + ' ' + (videoId || '-'));
    return {
        statusCode: 403,
        statusDescription: 'Forbidden',
        headers: {
            'content-type': { value: 'text/plain; charset=utf-8' },
            'cache-control': { value: 'no-store' },
        },
        body: { encoding: 'text', data: 'Forbidden: ' + reason + '\n' },
    };
}
