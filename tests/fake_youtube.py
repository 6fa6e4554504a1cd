#!/usr/bin/python3
"""fake_youtube.py - a loopback YouTube Data API v3 for pd-fetch's tests.

Serves, under /youtube/v3 (point PD_YOUTUBE_URL at
http://127.0.0.1:PORT/youtube/v3), the three calls pd uses, in the
documented JSON shapes (kind, etag, items, nextPageToken, pageInfo):
  channels.list       part, id (comma list, at most 50) or forHandle
  playlistItems.list  part, playlistId, maxResults (default 5, at most 50),
                      pageToken
  videos.list         part, id (comma list; more than 50 is a 400 error)
Every call checks key= against --key (default "test-key"): a wrong or missing
key is the API's 400 "API key not valid" (reason badRequest, details reason
API_KEY_INVALID).

Channels are made up from their ids, deterministically:
  UCmany...      120 uploads (3 pages of 50)
  UCspecial...   4 uploads: one with likes hidden (no likeCount), one with
                 comments disabled (no commentCount) and no tags, one lasting
                 P1DT2H3M4S, one live now (P0D, liveBroadcastContent live),
                 and categoryId 99 (not a standard category) on one
  UCnone...      does not exist (channels.list leaves it out)
  UCgone...      exists, but its uploads playlist is 404 playlistNotFound
  any other UC.. --videos N uploads (default 5)
  handles: forHandle=@name is the channel "UC" + name
Video i (0 = newest) of channel UCx has id "x-NNNN", published
2024-06-01T12:00:00Z minus i days, views 1000*(i+1), likes 10*(i+1), comments
i+1, duration PT{i%20}M{(7*i)%60+1}S (P0D and the like for UCspecial).

Faults: the common flags of fake_http.py (--fault, --hang, --close; see its
top comment), and --quota-after N: after N calls have been answered, every
call is the API's 403 quotaExceeded.  Request log: --log FILE (JSON lines).
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_http  # noqa: E402

BASE = "/youtube/v3"
EPOCH = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
answered = 0


def err(status, message, reason, domain="global", extra=None):
    e = {"code": status, "message": message,
         "errors": [{"message": message, "domain": domain, "reason": reason}]}
    if extra:
        e.update(extra)
    return fake_http.json_reply(status, {"error": e})


def key_invalid():
    m = "API key not valid. Please pass a valid API key."
    return err(400, m, "badRequest", extra={
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]})


def quota_exceeded():
    m = ("The request cannot be completed because you have exceeded your "
         "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.")
    return err(403, m, "quotaExceeded", domain="youtube.quota")


def channel_exists(cid):
    return cid.startswith("UC") and not cid.startswith("UCnone")


def n_videos(cid):
    if cid.startswith("UCmany"):
        return 120
    if cid.startswith("UCspecial"):
        return 4
    return fake_http.ARGS.videos


def video_ids(cid):
    return ["%s-%04d" % (cid[2:], i) for i in range(n_videos(cid))]


def parse_video_id(vid):
    base, _, num = vid.rpartition("-")
    if not base or not num.isdigit():
        return None
    cid = "UC" + base
    i = int(num)
    if not channel_exists(cid) or i >= n_videos(cid):
        return None
    return cid, i


def published(i):
    return (EPOCH - datetime.timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def video_item(vid, parts):
    cid, i = parse_video_id(vid)
    snippet = {
        "publishedAt": published(i), "channelId": cid,
        "title": "Video %d of %s" % (i, cid),
        "description": "Description of video %d.\nhttps://example.com/%d" % (i, i),
        "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/%s/default.jpg" % vid,
                                   "width": 120, "height": 90},
                       "high": {"url": "https://i.ytimg.com/vi/%s/hqdefault.jpg" % vid,
                                "width": 480, "height": 360}},
        "channelTitle": "Channel %s" % cid[2:],
        "tags": ["tag%d" % (i % 3), "how to", cid[2:].lower()],
        "categoryId": ["20", "27", "22", "10", "28"][i % 5],
        "liveBroadcastContent": "none",
        "defaultAudioLanguage": "en",
        "localized": {"title": "Video %d of %s" % (i, cid), "description": "..."},
    }
    stats = {"viewCount": str(1000 * (i + 1)), "likeCount": str(10 * (i + 1)),
             "favoriteCount": "0", "commentCount": str(i + 1)}
    details = {"duration": "PT%dM%dS" % (i % 20, (7 * i) % 60 + 1), "dimension": "2d",
               "definition": "hd", "caption": "false", "licensedContent": True,
               "contentRating": {}, "projection": "rectangular"}
    if cid.startswith("UCspecial"):
        if i == 0:      # likes hidden
            del stats["likeCount"]
        elif i == 1:    # comments disabled, no tags, unknown category
            del stats["commentCount"]
            del snippet["tags"]
            snippet["categoryId"] = "99"
        elif i == 2:    # a long one, with days
            details["duration"] = "P1DT2H3M4S"
        elif i == 3:    # live now
            details["duration"] = "P0D"
            snippet["liveBroadcastContent"] = "live"
            stats = {"viewCount": "0"}
    item = {"kind": "youtube#video", "etag": "etag-" + vid, "id": vid}
    if "snippet" in parts:
        item["snippet"] = snippet
    if "statistics" in parts:
        item["statistics"] = stats
    if "contentDetails" in parts:
        item["contentDetails"] = details
    return item


def listing(kind, items, next_token=None, total=None, per_page=None):
    out = {"kind": kind, "etag": "etag-list"}
    if next_token:
        out["nextPageToken"] = next_token
    out["pageInfo"] = {"totalResults": len(items) if total is None else total,
                       "resultsPerPage": per_page if per_page is not None else len(items)}
    if items:
        out["items"] = items
    return fake_http.json_reply(200, out)


def channels(req):
    parts = set((req.arg("part") or "").split(","))
    if not req.arg("part"):
        return err(400, "No filter selected. Expected one of: id, forHandle, mine",
                   "missingRequiredParameter")
    if req.arg("forHandle") is not None:
        ids = ["UC" + req.arg("forHandle").lstrip("@")]
    elif req.arg("id") is not None:
        ids = [x for x in req.arg("id").split(",") if x]
        if len(ids) > 50:
            return err(400, "Too many channel ids", "invalidFilters")
    else:
        return err(400, "No filter selected", "missingRequiredParameter")
    items = []
    for cid in ids:
        if not channel_exists(cid):
            continue
        it = {"kind": "youtube#channel", "etag": "etag-" + cid, "id": cid}
        if "snippet" in parts:
            it["snippet"] = {"title": "Channel %s" % cid[2:], "description": "",
                             "customUrl": "@" + cid[2:].lower(),
                             "publishedAt": "2015-01-01T00:00:00Z"}
        if "contentDetails" in parts:
            it["contentDetails"] = {"relatedPlaylists": {"likes": "",
                                                         "uploads": "UU" + cid[2:]}}
        items.append(it)
    return listing("youtube#channelListResponse", items, per_page=5)


def playlist_items(req):
    pid = req.arg("playlistId") or ""
    cid = "UC" + pid[2:]
    if not pid.startswith("UU") or not channel_exists(cid) or cid.startswith("UCgone"):
        return err(404, "The playlist identified with the request's <code>playlistId</code> "
                   "parameter cannot be found.", "playlistNotFound", domain="youtube.playlistItem")
    per = int(req.arg("maxResults") or 5)
    if per < 0 or per > 50:
        return err(400, "Invalid value for maxResults", "invalidValue")
    tok = req.arg("pageToken")
    start = 0
    if tok:
        if not tok.startswith("tok-") or not tok[4:].isdigit():
            return err(400, "The request specifies an invalid page token.", "invalidPageToken")
        start = int(tok[4:])
    ids = video_ids(cid)
    page = ids[start:start + per]
    items = []
    for k, vid in enumerate(page):
        i = start + k
        items.append({"kind": "youtube#playlistItem", "etag": "etag-pi-" + vid,
                      "id": "pi-" + vid,
                      "contentDetails": {"videoId": vid, "videoPublishedAt": published(i)}})
    nxt = "tok-%d" % (start + per) if start + per < len(ids) else None
    return listing("youtube#playlistItemListResponse", items, nxt, total=len(ids), per_page=per)


def videos(req):
    parts = set((req.arg("part") or "").split(","))
    ids = [x for x in (req.arg("id") or "").split(",") if x]
    if len(ids) > 50:
        return err(400, "The request specifies too many video IDs (%d); at most 50" % len(ids),
                   "badRequest")
    items = [video_item(v, parts) for v in ids if parse_video_id(v)]
    return listing("youtube#videoListResponse", items, total=len(items), per_page=len(items))


def handle(req):
    global answered
    if not req.path.startswith(BASE + "/"):
        return None
    if req.arg("key") != fake_http.ARGS.key:
        return key_invalid()
    if fake_http.ARGS.quota_after is not None and answered >= fake_http.ARGS.quota_after:
        return quota_exceeded()
    route = req.path[len(BASE) + 1:]
    fn = {"channels": channels, "playlistItems": playlist_items, "videos": videos}.get(route)
    if not fn:
        return None
    answered += 1
    return fn(req)


def add_args(p):
    p.add_argument("--key", default="test-key")
    p.add_argument("--videos", type=int, default=5)
    p.add_argument("--quota-after", type=int, default=None)


if __name__ == "__main__":
    fake_http.main(handle, description="fake YouTube Data API v3", add_args=add_args)
