import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';

// What `cdk synth` and `cdk deploy` run (cdk.json): the app, shaped by `-c` context (lib/app.ts).
defineApp(new App());
