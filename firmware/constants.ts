/** Numbers from the standards, named once. Clause references are to the documents named. */

// EN 13757-2 (M-Bus link layer): long frame 68 L L 68 C A CI data CS 16
export const MBUS_START = 0x68;
export const MBUS_STOP = 0x16;
/** L counts C, A, CI and the user data; a long frame has at least C, A, CI. */
export const MBUS_MIN_L = 3;
/** CI 0x00-0x1F: DLMS/COSEM with the M-Bus transport layer (IEC 62056-7-3): low nibble is the
 *  segment number, bit 0x10 marks the last segment; STSAP and DTSAP follow the CI field. */
export const MBUS_CI_DLMS_MAX = 0x1f;
export const MBUS_CI_LAST_SEGMENT = 0x10;
export const MBUS_CI_SEQUENCE_MASK = 0x0f;
export const MBUS_TPDU_HEADER = 2;

// IEC 62056-46 (HDLC): 7E, frame format type 3 (0xA), segmentation bit, 11-bit length
export const HDLC_FLAG = 0x7e;
export const HDLC_FORMAT_TYPE3 = 0xa;
export const HDLC_SEGMENTED = 0x08; // in the high format byte
export const HDLC_LENGTH_MASK = 0x7ff;
/** LLC header of a response/push: destination LSAP E6, source LSAP E7, quality 00. */
export const LLC_DEST = 0xe6;
export const LLC_SRC_RESPONSE = 0xe7;

// DLMS UA Green Book / IEC 62056-5-3 APDU tags
export const TAG_DATA_NOTIFICATION = 0x0f;
export const TAG_GLO_CIPHER = 0xdb; // general-glo-ciphering
export const TAG_DED_CIPHER = 0xdc; // general-ded-ciphering (same layout, dedicated key)
export const TAG_GBT = 0xe0; // general-block-transfer
export const DSMR_START = 0x2f; // '/' opens a DSMR P1 telegram carried inside the ciphering

// Security control byte (Green Book 9.2.7.2.4.1): suite in the low nibble
export const SC_SUITE_MASK = 0x0f;
export const SC_AUTHENTICATION = 0x10;
export const SC_ENCRYPTION = 0x20;
export const SC_BROADCAST_KEY = 0x40;
export const SC_COMPRESSION = 0x80;
export const GCM_TAG_LENGTH = 12;
export const SYSTEM_TITLE_LENGTH = 8;

// GBT block control (Green Book 9.4.6.13): last-block bit, streaming bit, window
export const GBT_LAST_BLOCK = 0x80;

// A-XDR data types (IEC 62056-6-2, Data ::= CHOICE)
export const DT_NULL = 0x00;
export const DT_ARRAY = 0x01;
export const DT_STRUCTURE = 0x02;
export const DT_BOOLEAN = 0x03;
export const DT_BIT_STRING = 0x04;
export const DT_INT32 = 0x05;
export const DT_UINT32 = 0x06;
export const DT_OCTET_STRING = 0x09;
export const DT_VISIBLE_STRING = 0x0a;
export const DT_UTF8_STRING = 0x0c;
export const DT_BCD = 0x0d;
export const DT_INT8 = 0x0f;
export const DT_INT16 = 0x10;
export const DT_UINT8 = 0x11;
export const DT_UINT16 = 0x12;
export const DT_COMPACT_ARRAY = 0x13;
export const DT_INT64 = 0x14;
export const DT_UINT64 = 0x15;
export const DT_ENUM = 0x16;
export const DT_FLOAT32 = 0x17;
export const DT_FLOAT64 = 0x18;
export const DT_DATE_TIME = 0x19;
export const DT_DATE = 0x1a;
export const DT_TIME = 0x1b;

/** Date-time deviation value meaning "not specified" (IEC 62056-6-2, 4.1.6.1). */
export const DEVIATION_UNSPECIFIED = -0x8000;
