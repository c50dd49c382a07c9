// Stand-in for webrtc-polyfill: Swarmdrop never uses WebRTC, and the real package pulls in
// node-datachannel, whose install downloads a binary from GitHub. These are undefined in Node,
// which makes simple-peer report WebRTC as unsupported instead of crashing at import time.
const g = globalThis
export const RTCPeerConnection = g.RTCPeerConnection
export const RTCSessionDescription = g.RTCSessionDescription
export const RTCIceCandidate = g.RTCIceCandidate
export const RTCDataChannel = g.RTCDataChannel
export const MediaStream = g.MediaStream
export const MediaStreamTrack = g.MediaStreamTrack
export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCDataChannel, MediaStream, MediaStreamTrack }
