package wire

// The HTTP binding of the protocol (PROTOCOL.md, "HTTP binding"): the
// paths, parameters and headers a polling client and server share.
const (
	// HTTPConnectPath begins a session: POST, body a hello frame (and
	// perhaps more frames).
	HTTPConnectPath = "/v1/connect"
	// HTTPSendPath carries client frames of a session: POST.
	HTTPSendPath = "/v1/send"
	// HTTPPollPath fetches the next batch of server frames: GET.
	HTTPPollPath = "/v1/poll"
	// HTTPSessionPath ends a session: DELETE.
	HTTPSessionPath = "/v1/session"

	// HTTPSessionParam names the session in a request's query.
	HTTPSessionParam = "session"
	// HTTPAckParam is the last batch the client holds (poll).
	HTTPAckParam = "ack"
	// HTTPWaitParam is how long a poll may be held, in milliseconds; 0
	// answers at once (short polling).
	HTTPWaitParam = "wait"

	// HTTPSessionHeader carries the new session's id in the connect answer.
	HTTPSessionHeader = "Swarmdesk-Session"
	// HTTPBatchHeader numbers the batch of frames an answer carries.
	HTTPBatchHeader = "Swarmdesk-Batch"

	// HTTPContentType is the content type of frame bodies.
	HTTPContentType = "application/vnd.swarmdesk.frames"

	// HTTPMaxWaitMS is the longest a poll is held, in milliseconds.
	HTTPMaxWaitMS = 60_000
	// HTTPMaxBatch bounds the bytes of one batch: more queued frames wait
	// for the next poll.
	HTTPMaxBatch = 1 << 20
	// HTTPBodyFrames is how many frames of the largest size a request body
	// may hold; a bigger body gets 413.
	HTTPBodyFrames = 64
)
