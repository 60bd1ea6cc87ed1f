import CExif

/// Reads the EXIF orientation tag (0x0112) with libexif and turns images upright.
///
/// Orientation values, as the EXIF spec states them ("row 0 is at the visual …, column 0 at …"):
/// 1 top/left (as stored), 2 top/right (mirrored), 3 bottom/right (rotated 180°),
/// 4 bottom/left (flipped vertically), 5 left/top (transposed), 6 right/top (needs 90° clockwise),
/// 7 right/bottom (transversed), 8 left/bottom (needs 90° counter-clockwise).
enum EXIFOrientation {
    /// The orientation in an APP1 payload that starts with "Exif\0\0"; 1 when absent or invalid.
    static func read(fromAPP1 payload: UnsafeRawBufferPointer) -> Int {
        guard let base = payload.baseAddress, payload.count >= 14, payload.count <= Int(UInt32.max),
              let data = exif_data_new() else { return 1 }
        defer { exif_data_unref(data) }
        // Read the tags as they are; "following the specification" would let libexif add or edit tags.
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        exif_data_load_data(data, base.assumingMemoryBound(to: UInt8.self), UInt32(payload.count))
        guard let ifd0 = data.pointee.ifd.0,
              let entry = exif_content_get_entry(ifd0, EXIF_TAG_ORIENTATION),
              entry.pointee.format == EXIF_FORMAT_SHORT, entry.pointee.components >= 1,
              entry.pointee.size >= 2, let value = entry.pointee.data else { return 1 }
        let orientation = Int(exif_get_short(value, exif_data_get_byte_order(data)))
        return (1...8).contains(orientation) ? orientation : 1
    }
}

extension Image {
    /// The image as it should be displayed, given the EXIF `orientation` (1...8) it was stored
    /// with; values outside 1...8 leave it unchanged. Orientations 5–8 swap width and height.
    public func applyingEXIFOrientation(_ orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        let (w, h) = (width, height)
        let swapsAxes = orientation >= 5
        let outWidth = swapsAxes ? h : w
        let outHeight = swapsAxes ? w : h
        // For each displayed pixel (x, y), the stored pixel it shows.
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (w - 1 - x, y) }
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }
        case 4: source = { x, y in (x, h - 1 - y) }
        case 5: source = { x, y in (y, x) }
        case 6: source = { x, y in (y, h - 1 - x) }
        case 7: source = { x, y in (w - 1 - y, h - 1 - x) }
        default: source = { x, y in (w - 1 - y, x) }  // 8
        }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        pixels.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy) = source(x, y)
                        let i = (sy * w + sx) * 3, o = (y * outWidth + x) * 3
                        output[o] = input[i]; output[o + 1] = input[i + 1]; output[o + 2] = input[i + 2]
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, pixels: out)
    }
}
