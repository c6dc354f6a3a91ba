namespace ConvEngine.Data.Images.Structure;

/// <summary>
/// JPEG (ITU T.81, Huffman-coded baseline, extended and progressive): the marker segments are walked and each scan's
/// entropy-coded data is Huffman-decoded just far enough to count its blocks (sequential: every coefficient;
/// progressive: DC and AC first and refinement passes, tracking which coefficients are non-zero). A scan whose data
/// ends before its last block — a truncated file, or an end-of-image marker put early — is refused, as is a file with
/// no frame header, no scan, or no end-of-image marker. Arithmetic-coded and lossless JPEGs are refused: the decoder
/// does not read them.
/// </summary>
internal static class JpegStructure
{
    private const string Format = "JPEG";

    private sealed class Component
    {
        public int Id, H, V, BlocksWide, BlocksHigh;
        public int DcPrediction;
        public ulong[]? NonZero;   // per block: bit k set when zig-zag coefficient k is non-zero (progressive only)
    }

    private sealed class HuffmanTable
    {
        public readonly int[] MinCode = new int[17], MaxCode = new int[18], ValuePointer = new int[17];
        public byte[] Values = [];
    }

    public static CheckedImage Check(ImageBytes file)
    {
        var data = file.Data;
        var dc = new HuffmanTable?[4];
        var ac = new HuffmanTable?[4];
        Component[]? components = null;
        int width = 0, height = 0, restartInterval = 0, maxH = 1, maxV = 1, scans = 0;
        bool progressive = false;
        long p = 2;
        while (true)
        {
            // Markers may be preceded by fill bytes 0xFF.
            if (p >= data.Length) throw file.Error(Format, "it ends without an end-of-image marker: the file is truncated");
            if (data[p] != 0xFF) throw file.Error(Format, $"byte {p} is 0x{data[p]:X2} where a marker should start");
            while (p < data.Length && data[p] == 0xFF) p++;
            if (p >= data.Length) throw file.Error(Format, "it ends inside a marker: the file is truncated");
            byte marker = data[p++];
            if (marker == 0xD9) break;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue;
            if (marker == 0xD8) throw file.Error(Format, "it has a second start-of-image marker");
            int length = file.U16BE(p, Format, $"the length of marker 0x{marker:X2}");
            if (length < 2) throw file.Error(Format, $"marker 0x{marker:X2} has length {length}");
            file.Require(p, length, Format, $"marker 0x{marker:X2}'s segment");
            long body = p + 2, next = p + length;
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2:
                {
                    if (components is not null) throw file.Error(Format, "it has two frame headers");
                    progressive = marker == 0xC2;
                    int precision = file.U8(body, Format, "the frame header");
                    height = file.U16BE(body + 1, Format, "the frame header");
                    width = file.U16BE(body + 3, Format, "the frame header");
                    int count = file.U8(body + 5, Format, "the frame header");
                    if (precision != 8 && precision != 12) throw file.Error(Format, $"its frame has {precision}-bit samples, not 8 or 12");
                    if (height == 0) throw file.Error(Format, "its frame header gives height 0 (a height defined later, by a DNL marker, is not read)");
                    if (width == 0) throw file.Error(Format, "its frame header gives width 0");
                    if (count is not (1 or 3 or 4)) throw file.Error(Format, $"its frame has {count} components, not 1, 3 or 4");
                    if (length != 8 + 3 * count) throw file.Error(Format, $"its frame header is {length} bytes, not {8 + 3 * count} for {count} components");
                    components = new Component[count];
                    for (int c = 0; c < count; c++)
                    {
                        byte sampling = data[body + 6 + 3 * c + 1];
                        components[c] = new Component { Id = data[body + 6 + 3 * c], H = sampling >> 4, V = sampling & 15 };
                        if (components[c].H is < 1 or > 4 || components[c].V is < 1 or > 4)
                            throw file.Error(Format, $"component {components[c].Id} has sampling factors {components[c].H}x{components[c].V}, not 1 to 4");
                    }
                    maxH = components.Max(c => c.H);
                    maxV = components.Max(c => c.V);
                    foreach (var c in components)
                    {
                        c.BlocksWide = (int)((((long)width * c.H + maxH - 1) / maxH + 7) / 8);
                        c.BlocksHigh = (int)((((long)height * c.V + maxV - 1) / maxV + 7) / 8);
                        if (progressive) c.NonZero = new ulong[(long)c.BlocksWide * c.BlocksHigh];
                    }
                    break;
                }
                case 0xC3 or (>= 0xC5 and <= 0xC7) or (>= 0xC9 and <= 0xCB) or (>= 0xCD and <= 0xCF):
                    throw file.Error(Format, $"it is coded with process 0x{marker:X2} (lossless, hierarchical or arithmetic), which the decoder does not read");
                case 0xC4:
                    ReadHuffmanTables(file, body, next, dc, ac);
                    break;
                case 0xDD:
                    restartInterval = file.U16BE(body, Format, "the restart interval");
                    break;
                case 0xDA:
                {
                    if (components is null) throw file.Error(Format, "a scan comes before the frame header");
                    next = ReadScan(file, body, next, components, dc, ac, restartInterval, progressive, maxH, maxV, width, height);
                    scans++;
                    break;
                }
            }
            p = next;
        }
        if (components is null) throw file.Error(Format, "it has no frame header (SOF)");
        if (scans == 0) throw file.Error(Format, "it has no scan (no pixel data)");
        return new CheckedImage(ImageFormatKind.Jpeg, width, height, data);
    }

    private static void ReadHuffmanTables(ImageBytes file, long p, long end, HuffmanTable?[] dc, HuffmanTable?[] ac)
    {
        while (p < end)
        {
            byte classAndId = file.U8(p, Format, "a Huffman table");
            int tableClass = classAndId >> 4, id = classAndId & 15;
            if (tableClass > 1 || id > 3) throw file.Error(Format, $"a Huffman table has class {tableClass} and id {id}");
            file.Require(p + 1, 16, Format, "a Huffman table's code counts");
            var table = new HuffmanTable();
            int total = 0, code = 0;
            for (int length = 1; length <= 16; length++)
            {
                int count = file.Data[p + length];
                table.ValuePointer[length] = total;
                table.MinCode[length] = code;
                code += count;
                total += count;
                table.MaxCode[length] = count > 0 ? code - 1 : -1;
                if (code > 1 << length) throw file.Error(Format, "a Huffman table has more codes than its code lengths allow");
                code <<= 1;
            }
            table.MaxCode[17] = int.MaxValue;
            if (p + 17 + total > end) throw file.Error(Format, "a Huffman table runs past its segment");
            table.Values = file.Data.AsSpan((int)(p + 17), total).ToArray();
            (tableClass == 0 ? dc : ac)[id] = table;
            p += 17 + total;
        }
    }

    /// <summary>Reads a scan header and counts the scan's entropy-coded blocks; returns the position of the marker after the scan.</summary>
    private static long ReadScan(ImageBytes file, long header, long dataStart, Component[] frame, HuffmanTable?[] dc, HuffmanTable?[] ac,
        int restartInterval, bool progressive, int maxH, int maxV, int width, int height)
    {
        int count = file.U8(header, Format, "the scan header");
        if (count is < 1 or > 4) throw file.Error(Format, $"a scan has {count} components");
        file.Require(header + 1, 2 * count + 3, Format, "the scan header");
        var members = new Component[count];
        var dcTables = new HuffmanTable?[count];
        var acTables = new HuffmanTable?[count];
        for (int i = 0; i < count; i++)
        {
            int id = file.Data[header + 1 + 2 * i], tables = file.Data[header + 2 + 2 * i];
            members[i] = frame.FirstOrDefault(c => c.Id == id) ?? throw file.Error(Format, $"a scan names component {id}, which the frame does not have");
            if ((tables >> 4) > 3 || (tables & 15) > 3) throw file.Error(Format, $"a scan names Huffman tables {tables >> 4}/{tables & 15}");
            dcTables[i] = dc[tables >> 4];
            acTables[i] = ac[tables & 15];
        }
        int ss = file.Data[header + 1 + 2 * count], se = file.Data[header + 2 + 2 * count];
        int ah = file.Data[header + 3 + 2 * count] >> 4;
        if (!progressive && (ss != 0 || se != 63)) throw file.Error(Format, $"a sequential scan has spectral selection {ss}..{se}, not 0..63");
        if (progressive && (se > 63 || ss > se || (ss == 0) != (se == 0) || (ss > 0 && count != 1)))
            throw file.Error(Format, $"a progressive scan has spectral selection {ss}..{se} over {count} components");
        bool needsDc = ss == 0 && ah == 0, needsAc = se > 0;
        for (int i = 0; i < count; i++)
        {
            if (needsDc && dcTables[i] is null) throw file.Error(Format, $"a scan uses a DC Huffman table that was never defined (component {members[i].Id})");
            if (needsAc && acTables[i] is null) throw file.Error(Format, $"a scan uses an AC Huffman table that was never defined (component {members[i].Id})");
            members[i].DcPrediction = 0;
        }

        // MCUs: interleaved scans cover the frame in (8·Hmax)x(8·Vmax) units of H×V blocks per component; a
        // single-component scan covers that component's own block grid one block at a time.
        long mcusWide, mcusHigh;
        if (count > 1)
        {
            mcusWide = (width + 8L * maxH - 1) / (8L * maxH);
            mcusHigh = (height + 8L * maxV - 1) / (8L * maxV);
        }
        else
        {
            mcusWide = members[0].BlocksWide;
            mcusHigh = members[0].BlocksHigh;
        }
        var bits = new EntropyBits(file.Data, dataStart);
        int eobRun = 0;
        long mcus = mcusWide * mcusHigh;
        for (long mcu = 0; mcu < mcus; mcu++)
        {
            if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0)
            {
                if (!bits.Restart()) throw Truncated(file, mcu, mcus);
                eobRun = 0;
                foreach (var c in members) c.DcPrediction = 0;
            }
            long row = mcu / mcusWide, column = mcu % mcusWide;
            for (int i = 0; i < count; i++)
            {
                var c = members[i];
                int blocksH = count > 1 ? c.H : 1, blocksV = count > 1 ? c.V : 1;
                for (int v = 0; v < blocksV; v++)
                for (int h = 0; h < blocksH; h++)
                {
                    long blockRow = row * blocksV + v, blockColumn = column * blocksH + h;
                    // Interleaved MCUs at the right and bottom edges hold padding blocks outside the component's grid.
                    long block = blockRow < c.BlocksHigh && blockColumn < c.BlocksWide ? blockRow * c.BlocksWide + blockColumn : -1;
                    bool complete = !progressive ? SequentialBlock(bits, dcTables[i]!, acTables[i]!)
                        : ss == 0 ? (ah == 0 ? DcFirst(bits, dcTables[i]!) : bits.TryBits(1, out _))
                        : ah == 0 ? AcFirst(bits, acTables[i]!, ss, se, ref eobRun, c, block)
                        : AcRefine(bits, acTables[i]!, ss, se, ref eobRun, c, block);
                    if (!complete) throw bits.Invalid ? file.Error(Format, $"a scan holds a code that is in no Huffman table (block of MCU {mcu + 1} of {mcus})") : Truncated(file, mcu, mcus);
                }
            }
        }
        return bits.NextMarker();
    }

    private static ImageLoadException Truncated(ImageBytes file, long mcu, long mcus) =>
        file.Error(Format, $"a scan's data ends at MCU {mcu + 1} of {mcus}: the image data is truncated");

    private static bool SequentialBlock(EntropyBits bits, HuffmanTable dc, HuffmanTable ac)
    {
        if (!DcFirst(bits, dc)) return false;
        for (int k = 1; k < 64;)
        {
            if (!bits.TryDecode(ac, out int rs)) return false;
            int r = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (r != 15) return true;   // end of block
                k += 16;
                continue;
            }
            if (!bits.TryBits(s, out _)) return false;
            k += r + 1;
        }
        return true;
    }

    private static bool DcFirst(EntropyBits bits, HuffmanTable dc) =>
        bits.TryDecode(dc, out int s) && s <= 16 && bits.TryBits(s, out _);

    private static bool AcFirst(EntropyBits bits, HuffmanTable ac, int ss, int se, ref int eobRun, Component c, long block)
    {
        if (eobRun > 0) { eobRun--; return true; }
        for (int k = ss; k <= se;)
        {
            if (!bits.TryDecode(ac, out int rs)) return false;
            int r = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (r < 15)
                {
                    eobRun = (1 << r) - 1;
                    if (r > 0) { if (!bits.TryBits(r, out int extra)) return false; eobRun += extra; }
                    return true;
                }
                k += 16;
                continue;
            }
            k += r;
            if (!bits.TryBits(s, out _)) return false;
            if (block >= 0 && k <= 63) c.NonZero![block] |= 1UL << k;
            k++;
        }
        return true;
    }

    /// <summary>The successive-approximation AC pass (T.81 G.1.2.3, as libjpeg's decode_mcu_AC_refine reads it).</summary>
    private static bool AcRefine(EntropyBits bits, HuffmanTable ac, int ss, int se, ref int eobRun, Component c, long block)
    {
        ulong nonZero = block >= 0 ? c.NonZero![block] : 0;
        int k = ss;
        if (eobRun == 0)
        {
            for (; k <= se; k++)
            {
                if (!bits.TryDecode(ac, out int rs)) return false;
                int r = rs >> 4, s = rs & 15;
                if (s != 0)
                {
                    if (!bits.TryBits(1, out _)) return false;
                }
                else if (r != 15)
                {
                    eobRun = 1 << r;
                    if (r > 0) { if (!bits.TryBits(r, out int extra)) return false; eobRun += extra; }
                    break;
                }
                // Skip already non-zero coefficients (each with a correction bit) and r zero ones.
                while (k <= se)
                {
                    if ((nonZero & (1UL << k)) != 0)
                    {
                        if (!bits.TryBits(1, out _)) return false;
                    }
                    else if (--r < 0) break;
                    k++;
                }
                if (s != 0 && k <= se) nonZero |= 1UL << k;
            }
        }
        if (eobRun > 0)
        {
            for (; k <= se; k++)
                if ((nonZero & (1UL << k)) != 0 && !bits.TryBits(1, out _)) return false;
            eobRun--;
        }
        if (block >= 0) c.NonZero![block] = nonZero;
        return true;
    }

    /// <summary>
    /// The bits of a scan's entropy-coded segment: 0xFF 0x00 is a data byte 0xFF; any other marker ends the data
    /// (restart markers only where the restart interval puts them).
    /// </summary>
    private sealed class EntropyBits(byte[] data, long start)
    {
        private long _position = start;
        private uint _buffer;
        private int _count;
        private bool _atMarker;

        /// <summary>A code matched no Huffman table entry (as opposed to the data running out).</summary>
        public bool Invalid { get; private set; }

        private bool TryBit(out int bit)
        {
            if (_count == 0)
            {
                if (_atMarker || _position >= data.Length) { bit = 0; return false; }
                byte b = data[_position];
                if (b == 0xFF)
                {
                    if (_position + 1 >= data.Length) { bit = 0; return false; }
                    if (data[_position + 1] != 0x00) { _atMarker = true; bit = 0; return false; }
                    _position += 2;
                }
                else _position++;
                _buffer = b;
                _count = 8;
            }
            _count--;
            bit = (int)(_buffer >> _count) & 1;
            return true;
        }

        public bool TryBits(int count, out int value)
        {
            value = 0;
            for (int i = 0; i < count; i++)
            {
                if (!TryBit(out int bit)) return false;
                value = value << 1 | bit;
            }
            return true;
        }

        public bool TryDecode(HuffmanTable table, out int symbol)
        {
            int code = 0;
            for (int length = 1; length <= 16; length++)
            {
                if (!TryBit(out int bit)) { symbol = 0; return false; }
                code = code << 1 | bit;
                if (code <= table.MaxCode[length] && table.MaxCode[length] >= 0)
                {
                    int index = table.ValuePointer[length] + code - table.MinCode[length];
                    if (index < 0 || index >= table.Values.Length) break;
                    symbol = table.Values[index];
                    return true;
                }
            }
            Invalid = true;
            symbol = 0;
            return false;
        }

        /// <summary>At a restart boundary: drops the partial byte and consumes the RSTn marker; false when the data ends instead.</summary>
        public bool Restart()
        {
            _count = 0;
            if (!_atMarker)
            {
                if (_position + 1 >= data.Length || data[_position] != 0xFF) return false;
                _atMarker = true;
            }
            long p = _position;
            while (p < data.Length && data[p] == 0xFF) p++;
            if (p >= data.Length || data[p] is < 0xD0 or > 0xD7) return false;
            _position = p + 1;
            _atMarker = false;
            return true;
        }

        /// <summary>The position of the next marker after the scan's data (padding bits and stray bytes skipped).</summary>
        public long NextMarker()
        {
            long p = _position;
            while (p + 1 < data.Length && !(data[p] == 0xFF && data[p + 1] != 0x00 && data[p + 1] is not (>= 0xD0 and <= 0xD7))) p++;
            return p + 1 < data.Length ? p : data.Length;
        }
    }
}
