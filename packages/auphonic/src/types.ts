/** The envelope around every JSON answer of the Auphonic API. */
export interface Envelope<T> {
  status_code: number;
  error_code: string | number | null;
  error_message: string | null;
  form_errors: unknown;
  data: T | null;
}

export interface OutputFile {
  format: string;
  ending?: string;
  suffix?: string;
  filename: string | null;
  download_url: string | null;
  size?: number | null;
  size_string?: string;
  checksum?: string | null;
  bitrate?: number | null;
  mono_mixdown?: boolean;
  split_on_chapters?: boolean;
  outgoing_services?: unknown[];
  [key: string]: unknown;
}

/** Production details; unknown fields are kept as they came. */
export interface Production {
  uuid: string;
  status: number;
  status_string: string;
  error_message?: string;
  error_status?: unknown;
  change_time?: string;
  creation_time?: string;
  metadata?: Record<string, unknown>;
  /** Entries are objects when Auphonic is well; one may not be (a null), and is then refused on its own. */
  output_files: Array<OutputFile | null>;
  [key: string]: unknown;
}
