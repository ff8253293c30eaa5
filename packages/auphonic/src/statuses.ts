/** From GET /api/info/production_status.json. */
export const ProductionStatus = {
  FileUpload: 0,
  Waiting: 1,
  Error: 2,
  Done: 3,
  AudioProcessing: 4,
  AudioEncoding: 5,
  OutgoingFileTransfer: 6,
  AudioMonoMixdown: 7,
  SplitAudioOnChapterMarks: 8,
  IncompleteForm: 9,
  NotStartedYet: 10,
  Outdated: 11,
  IncomingFileTransfer: 12,
  Stopping: 13,
  SpeechRecognition: 14,
} as const;

export type ProductionOutcome = 'done' | 'error' | 'running';

/** Done and Error are final; any other code, known or not, is still running. */
export function outcomeOf(status: number): ProductionOutcome {
  if (status === ProductionStatus.Done) return 'done';
  if (status === ProductionStatus.Error) return 'error';
  return 'running';
}
