// embedded:io/digital for the Linux build: the boot button, never pressed.
export default class Digital {
	constructor() {}
	read() { return 1; }
	write() {}
	close() {}
}
Digital.Input = 0;
Digital.InputPullUp = 1;
Digital.InputPullDown = 2;
Digital.InputPullUpDown = 3;
Digital.Output = 8;
Digital.OutputOpenDrain = 9;
Digital.Rising = 1;
Digital.Falling = 2;
