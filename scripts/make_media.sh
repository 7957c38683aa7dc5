#!/usr/bin/env bash
# Makes the emulated camera's clips in fixtures/media (committed; rerun only to change them).
#   scripts/make_media.sh [OUTDIR] [SECONDS]
# H.264 Annex B byte streams, constrained baseline (no B-frames: decode order = display
# order, so RTP timestamps simply follow the frame count), 15 fps, an IDR every second
# with SPS/PPS repeated before it (a client joining mid-stream starts at the next second),
# and G.711 mu-law audio at 8 kHz. The length is a whole number of seconds so the loop
# restarts on an IDR.
set -euo pipefail
out=${1:-"$(dirname "$0")/../fixtures/media"}
seconds=${2:-4}
mkdir -p "$out"
x264=(-c:v libx264 -profile:v baseline -preset veryfast -tune zerolatency -bf 0
      -g 15 -keyint_min 15 -sc_threshold 0 -x264-params repeat-headers=1:aud=0
      -pix_fmt yuv420p -an -f h264)
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=640x360:rate=15:duration=$seconds" \
  "${x264[@]}" -b:v 400k -maxrate 400k -bufsize 400k "$out/video1.h264"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=320x180:rate=15:duration=$seconds" \
  "${x264[@]}" -b:v 120k -maxrate 120k -bufsize 120k "$out/video1s.h264"
ffmpeg -hide_banner -loglevel error -y -f lavfi \
  -i "sine=frequency=440:beep_factor=4:sample_rate=8000:duration=$seconds" \
  -ac 1 -ar 8000 -f mulaw "$out/audio1.ulaw"
