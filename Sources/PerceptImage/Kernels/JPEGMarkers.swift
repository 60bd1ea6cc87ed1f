/// What Percept needs from a JPEG's marker segments, found by walking them (not decoding):
/// whether the frame is progressive (TurboJPEG 2.1 does not say), whether an Adobe APP14
/// segment is present (it decides how CMYK samples are stored), where the EXIF APP1
/// payload is, and whether the stream reaches its end-of-image marker (truncation check).
struct JPEGMarkers {
    var progressive = false
    var adobe = false
    /// Byte range of the first APP1 payload that starts with "Exif\0\0".
    var exifPayload: Range<Int>?

    /// Walks the header segments up to the first start-of-scan.
    init(_ bytes: UnsafeRawBufferPointer) {
        var walker = SegmentWalker(bytes: bytes)
        while let segment = walker.next() {
            switch segment.marker {
            case 0xC2, 0xC6, 0xCA, 0xCE:  // SOF2/6/10/14: the progressive frame types
                progressive = true
            case 0xE1 where exifPayload == nil && Self.starts(bytes, segment.payload, with: Array("Exif\0\0".utf8)):
                exifPayload = segment.payload
            case 0xEE where Self.starts(bytes, segment.payload, with: Array("Adobe".utf8)):
                adobe = true
            case 0xDA, 0xD9:  // start of scan or end of image: the header is over
                return
            default:
                break
            }
        }
    }

    /// Whether the stream contains an end-of-image marker after its scans. A file cut short
    /// does not, and libjpeg only warns about it (filling the rest with grey).
    static func reachesEndOfImage(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var walker = SegmentWalker(bytes: bytes)
        while let segment = walker.next() {
            if segment.marker == 0xD9 { return true }
            if segment.marker == 0xDA { walker.skipEntropyCodedData() }
        }
        return false
    }

    private static func starts(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, with magic: [UInt8]) -> Bool {
        guard range.count >= magic.count else { return false }
        return magic.indices.allSatisfy { bytes[range.lowerBound + $0] == magic[$0] }
    }
}

/// Iterates over marker segments: `marker` is the byte after 0xFF, `payload` the bytes after
/// the two length bytes. Stops (returns nil) at the end of data or at anything malformed.
private struct SegmentWalker {
    let bytes: UnsafeRawBufferPointer
    var offset = 2  // after SOI

    mutating func next() -> (marker: UInt8, payload: Range<Int>)? {
        // Skip stray bytes before a marker as libjpeg does (it only warns about them), then
        // any number of 0xFF fill bytes.
        while offset < bytes.count, bytes[offset] != 0xFF { offset += 1 }
        while offset < bytes.count, bytes[offset] == 0xFF { offset += 1 }
        guard offset < bytes.count else { return nil }
        let marker = bytes[offset]
        offset += 1
        // Stand-alone markers carry no length: SOI, EOI, TEM, RSTn.
        if marker == 0xD8 || marker == 0xD9 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
            return (marker, offset..<offset)
        }
        guard offset + 2 <= bytes.count else { return nil }
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        guard length >= 2, offset + length <= bytes.count else { return nil }
        let payload = (offset + 2)..<(offset + length)
        offset += length
        return (marker, payload)
    }

    /// Moves past entropy-coded bytes to the next real marker (0xFF not followed by a
    /// stuffed 0x00 or a restart marker).
    mutating func skipEntropyCodedData() {
        while offset + 1 < bytes.count {
            if bytes[offset] == 0xFF {
                let next = bytes[offset + 1]
                if next != 0x00 && !(0xD0...0xD7).contains(next) && next != 0xFF { return }
            }
            offset += 1
        }
        offset = bytes.count
    }
}
